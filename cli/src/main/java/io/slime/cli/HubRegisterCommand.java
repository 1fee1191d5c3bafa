package io.slime.cli;

import com.typesafe.config.Config;
import io.slime.shared.agent.AgentTerms;
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
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

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
          "Slime-Scope values the agent accepts, comma-separated, besides requests without"
              + " Slime-Scope, which every agent serves. Default: none.")
  List<String> scopes;

  @Option(
      names = "--scopePaths",
      paramLabel = "PATH",
      split = ",",
      description =
          "Paths the agent accepts, comma-separated; an entry ending in * is a prefix. Default:"
              + " every path.")
  List<String> scopePaths;

  @Option(
      names = "--weight",
      paramLabel = "N",
      description =
          "Relative share of the requests in weighted balancing, 0 to 10000; wins over the"
              + " agent's own. Default: not set.")
  Integer weight;

  @Option(
      names = "--label",
      paramLabel = "KEY=VALUE",
      split = ",",
      description =
          "Label that requests select the agent by (Slime-Select); repeat it, or separate with"
              + " commas. Wins over the agent's label of the same key.")
  List<String> labels;

  @Option(
      names = "--rpm",
      paramLabel = "N",
      description = "Most requests per minute, 0 for no limit. Default: not set.")
  Long rpm;

  @Option(
      names = "--bpm",
      paramLabel = "BYTES",
      converter = TermOptions.ByteSizeConverter.class,
      description =
          "Most body bytes per minute (10MiB, or a number), 0 for no limit. Default: not set.")
  Long bpm;

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
        new AgentToken(randomId(), tokenName, expiresAt, clean(scopes), clean(scopePaths), terms());
    String sealed = TokenCodec.forSecret(config.getString(Setting.HUB_SECRET.key())).seal(token);
    spec.commandLine().getOut().println(sealed);
    return 0;
  }

  /** The terms sealed into the token: they win over those the agent sets itself. */
  private AgentTerms terms() {
    if (weight != null && (weight < 0 || weight > AgentTerms.MAX_WEIGHT)) {
      throw new UsageException(
          "Invalid value for option '--weight': "
              + weight
              + " is not between 0 and "
              + AgentTerms.MAX_WEIGHT);
    }
    if (rpm != null && rpm < 0) {
      throw new UsageException(
          "Invalid value for option '--rpm': must not be negative, was " + rpm);
    }
    return new AgentTerms(weight, TermOptions.labels(labels), rpm, bpm);
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
}
