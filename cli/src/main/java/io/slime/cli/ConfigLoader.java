package io.slime.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import io.slime.shared.config.GoDuration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the one {@link Config} a command runs with, from four sources, first one wins:
 *
 * <pre>
 * flags  &gt;  environment (SECRET, PORT, ...)  &gt;  --config FILE  &gt;  reference.conf / application.conf
 * </pre>
 *
 * A "required" setting is only required of the merged result: {@code SECRET=s slime hub run} is as
 * good as {@code slime hub run --secret s}. The environment is a constructor argument so tests need
 * not set real variables.
 */
public final class ConfigLoader {

  /** What {@code slime hub run} reads. */
  public static final List<Setting> HUB_RUN =
      List.of(
          Setting.HUB_SECRET,
          Setting.HUB_HOST,
          Setting.HUB_PORT,
          Setting.HUB_APP_PASSWORD,
          Setting.HUB_CONCURRENT,
          Setting.HUB_ADMIN_TOKEN,
          Setting.HUB_CLUSTER_HOST,
          Setting.HUB_CLUSTER_PORT,
          Setting.HUB_CLUSTER_SEEDS,
          Setting.HUB_TLS_CERT,
          Setting.HUB_TLS_KEY);

  /** What {@code slime hub register} reads. */
  public static final List<Setting> HUB_REGISTER = List.of(Setting.HUB_SECRET);

  /** What {@code slime agent run} reads. */
  public static final List<Setting> AGENT_RUN =
      List.of(
          Setting.AGENT_TOKEN,
          Setting.AGENT_HUB,
          Setting.AGENT_UPSTREAMS,
          Setting.AGENT_NUM_WORKER,
          Setting.AGENT_ID,
          Setting.AGENT_CA_CERT,
          Setting.AGENT_WEIGHT,
          Setting.AGENT_LABELS,
          Setting.AGENT_RPM,
          Setting.AGENT_BPM,
          Setting.AGENT_HEALTH_PATH,
          Setting.AGENT_HEALTH_INTERVAL,
          Setting.AGENT_HEALTH_TIMEOUT,
          Setting.AGENT_HEALTH_FAILURES,
          Setting.AGENT_HEALTH_SUCCESSES,
          Setting.AGENT_RESPONSE_TIMEOUT,
          Setting.AGENT_RESPONSE_BODY_IDLE_TIMEOUT);

  private static final Logger log = LoggerFactory.getLogger(ConfigLoader.class);

  private final Map<String, String> environment;

  public ConfigLoader(Map<String, String> environment) {
    this.environment = Map.copyOf(Objects.requireNonNull(environment, "environment"));
  }

  /** A loader reading the real process environment. */
  public static ConfigLoader fromSystemEnvironment() {
    return new ConfigLoader(System.getenv());
  }

  /**
   * Merges flags, environment, an optional config file and the built-in defaults, resolves the
   * result and checks {@code settings} in it.
   *
   * @param flags values given as flags; absent or {@code null} means not given
   * @param configFile the --config file, or {@code null}
   * @throws UsageException when a required setting is empty everywhere, a value is out of range, or
   *     the file is missing
   * @throws ConfigException when the file cannot be parsed or a value has the wrong type (the
   *     message names the key)
   */
  public Config load(List<Setting> settings, Map<Setting, ?> flags, Path configFile) {
    Config fileConfig = ConfigFactory.empty();
    if (configFile != null) {
      if (!Files.isRegularFile(configFile) || !Files.isReadable(configFile)) {
        throw new UsageException("Config file not found or not readable: " + configFile);
      }
      fileConfig = parse(configFile);
    }
    return merge(settings, flags, fileConfig, true);
  }

  private static Config parse(Path configFile) {
    try {
      return ConfigFactory.parseFile(
          configFile.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
    } catch (ConfigException.Parse e) {
      // The parser's own words for a missing '}' speak of a parenthesis.
      if (e.getMessage().endsWith("expecting a close parentheses ')' here, not: end of file")) {
        throw new ConfigException.Parse(
            e.origin(), "the file ends inside a block: a '}' is missing", e);
      }
      throw e;
    }
  }

  /** As {@link #load} for commands that take no --config file. */
  public Config loadWithoutFile(List<Setting> settings, Map<Setting, ?> flags) {
    return merge(settings, flags, ConfigFactory.empty(), false);
  }

  private Config merge(
      List<Setting> settings, Map<Setting, ?> flags, Config fileConfig, boolean acceptsFile) {
    Config merged =
        ConfigFactory.parseMap(byKey(flags))
            .withFallback(ConfigFactory.parseMap(environmentValues(settings)))
            .withFallback(fileConfig)
            .withFallback(ConfigFactory.load())
            .resolve();
    settings.forEach(setting -> check(merged, setting, acceptsFile));
    for (String unknown : UnknownKeys.in(merged, ConfigFactory.defaultReference())) {
      log.warn("Ignoring unknown configuration key {}", unknown);
    }
    return merged;
  }

  private static Map<String, Object> byKey(Map<Setting, ?> flags) {
    Map<String, Object> byKey = new LinkedHashMap<>();
    flags.forEach(
        (setting, value) -> {
          if (value != null) {
            byKey.put(setting.key(), value);
          }
        });
    return byKey;
  }

  private Map<String, Object> environmentValues(List<Setting> settings) {
    Map<String, Object> values = new LinkedHashMap<>();
    for (Setting setting : settings) {
      if (setting.envVar() == null) {
        continue;
      }
      String raw = environment.get(setting.envVar());
      // Docker users write `-e APP_PASSWORD=` to mean "unset", not "set to nothing".
      if (raw == null || raw.isBlank()) {
        continue;
      }
      switch (setting.type()) {
        case STRING, VERBATIM -> values.put(setting.key(), raw.strip());
        case INT, LONG -> values.put(setting.key(), parseInteger(setting, raw.strip()));
        case DURATION -> values.put(setting.key(), parseDuration(setting, raw.strip()));
        case LIST -> {
          List<String> items = splitList(raw);
          if (!items.isEmpty()) {
            values.put(setting.key(), items);
          }
        }
      }
    }
    return values;
  }

  private static long parseInteger(Setting setting, String raw) {
    try {
      return setting.type() == Setting.Type.INT ? Integer.parseInt(raw) : Long.parseLong(raw);
    } catch (NumberFormatException e) {
      throw new UsageException(
          "Invalid value for environment variable "
              + setting.envVar()
              + ": '"
              + raw
              + "' is not an integer");
    }
  }

  /** A Go duration as HOCON reads it; the module's settings check its range. */
  private static String parseDuration(Setting setting, String raw) {
    try {
      return GoDuration.parse(raw).toNanos() + "ns";
    } catch (IllegalArgumentException e) {
      throw new UsageException(
          "Invalid value for environment variable " + setting.envVar() + ": " + e.getMessage());
    }
  }

  /** Splits "a, b,,c" into [a, b, c], as the flags and UPSTREAM accept. */
  public static List<String> splitList(String commaSeparated) {
    return Arrays.stream(commaSeparated.split(","))
        .map(String::strip)
        .filter(s -> !s.isEmpty())
        .toList();
  }

  private static void check(Config config, Setting setting, boolean acceptsFile) {
    // A null default (slime.agent.weight = null) means "not set".
    boolean empty =
        !config.hasPath(setting.key())
            || switch (setting.type()) {
              case STRING -> config.getString(setting.key()).isBlank();
              case LIST -> config.getStringList(setting.key()).stream().allMatch(String::isBlank);
              case INT -> inRange(setting, config.getInt(setting.key()), acceptsFile);
              case LONG -> inRange(setting, config.getLong(setting.key()), acceptsFile);
              case VERBATIM, DURATION -> false;
            };
    if (empty && setting.required()) {
      throw new UsageException(
          "Missing required option "
              + setting.flag()
              + " (or environment variable "
              + setting.envVar()
              + (acceptsFile ? ", or " + setting.key() + " in --config)" : ")"));
    }
  }

  /** False, as a number is never empty; throws when out of the setting's range. */
  private static boolean inRange(Setting setting, long value, boolean acceptsFile) {
    if (value < setting.min() || value > setting.max()) {
      throw new UsageException(
          "Invalid value for "
              + sources(setting, acceptsFile)
              + ": "
              + value
              + " is not between "
              + setting.min()
              + " and "
              + setting.max());
    }
    return false;
  }

  private static String sources(Setting setting, boolean acceptsFile) {
    List<String> others = new ArrayList<>();
    if (setting.envVar() != null) {
      others.add("environment variable " + setting.envVar());
    }
    if (acceptsFile) {
      others.add(setting.key() + " in --config");
    }
    return others.isEmpty()
        ? setting.flag()
        : setting.flag() + " (" + String.join(", ", others) + ")";
  }
}
