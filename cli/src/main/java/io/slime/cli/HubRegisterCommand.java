package io.slime.cli;

import com.typesafe.config.Config;
import io.slime.shared.config.GoDuration;
import io.slime.shared.token.AgentToken;
import io.slime.shared.token.PetNames;
import io.slime.shared.token.TokenCodec;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code slime hub register}: mints an agent token sealed with the hub's secret and prints it alone
 * on stdout, so {@code TOKEN=$(slime hub register ...)} works.
 */
@Command(
    name = "register",
    mixinStandardHelpOptions = true,
    versionProvider = VersionInfo.class,
    description = "Print a new agent token for a hub with the given secret.")
final class HubRegisterCommand implements Callable<Integer> {

  private static final SecureRandom RANDOM = new SecureRandom();

  @Spec CommandSpec spec;

  @Option(
      names = "--secret",
      paramLabel = "SECRET",
      description = "The hub's secret; required. Env: SECRET.")
  String secret;

  @Option(
      names = "--name",
      paramLabel = "NAME",
      description = "Name of the agent, for logs and auditing. Default: a random adjective-animal.")
  String name;

  @Option(
      names = "--age",
      paramLabel = "DURATION",
      converter = GoDurationConverter.class,
      description = "How long the token is valid, e.g. 720h, 1h30m. Default: forever.")
  Duration age;

  @Option(
      names = "--scopes",
      paramLabel = "SCOPE",
      split = ",",
      description =
          "Slime-Scope values the agent accepts, comma-separated. Default: none (it takes only"
              + " requests without Slime-Scope).")
  List<String> scopes;

  @Option(
      names = "--scopePaths",
      paramLabel = "PATH",
      split = ",",
      description =
          "Paths the agent accepts, comma-separated; an entry ending in * is a prefix. Default:"
              + " every path.")
  List<String> scopePaths;

  @Override
  public Integer call() {
    Map<Setting, Object> flags = new EnumMap<>(Setting.class);
    flags.put(Setting.HUB_SECRET, secret);
    Config config =
        SlimeCommand.configLoader(spec).loadWithoutFile(ConfigLoader.HUB_REGISTER, flags);
    if (age != null && (age.isNegative() || age.isZero())) {
      throw new UsageException("Invalid value for option '--age': must be positive");
    }
    Instant expiresAt = age == null ? null : Instant.now().plus(age).truncatedTo(ChronoUnit.MILLIS);
    String tokenName = name == null || name.isBlank() ? PetNames.random() : name.strip();
    AgentToken token =
        new AgentToken(randomId(), tokenName, expiresAt, clean(scopes), clean(scopePaths));
    String sealed = TokenCodec.forSecret(config.getString(Setting.HUB_SECRET.key())).seal(token);
    spec.commandLine().getOut().println(sealed);
    return 0;
  }

  /** A random positive 63-bit id. */
  private static long randomId() {
    long id;
    do {
      id = RANDOM.nextLong() & Long.MAX_VALUE;
    } while (id == 0);
    return id;
  }

  private static List<String> clean(List<String> values) {
    return values == null
        ? List.of()
        : values.stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
  }

  /** Reads --age in Go's syntax (1h30m), as Go Slime did. */
  static final class GoDurationConverter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      try {
        return GoDuration.parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
