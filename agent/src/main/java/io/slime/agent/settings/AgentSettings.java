package io.slime.agent.settings;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValueType;
import io.slime.shared.agent.AgentTerms;
import io.slime.shared.agent.Labels;
import io.slime.shared.net.ServiceAddress;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The agent's settings under {@code slime.agent}, read and checked once. Every invalid value throws
 * a {@link ConfigException} that names its key, so the command line can print one clear line.
 *
 * @param agentId the fixed id, or empty when it comes from {@code idFile}
 * @param upstreamIdleTimeout empty when infinite
 * @param responseTimeout longest wait, once the whole request is out, for the upstream's head
 * @param responseBodyIdleTimeout longest silence of the upstream within a response body
 * @param terms the agent's own weight, labels and limits, announced to the hub on every connection
 * @param reportInterval how often the agent tells the hub its health and load
 * @param hubTrust the CAs an https hub's certificate must come from
 */
public record AgentSettings(
    String token,
    List<ServiceAddress> hubs,
    List<ServiceAddress> upstreams,
    int numWorker,
    String agentId,
    Path idFile,
    Duration minBackoff,
    Duration maxBackoff,
    double randomFactor,
    Duration keepAlive,
    int inlineBodyLimit,
    Duration upstreamConnectingTimeout,
    Optional<Duration> upstreamIdleTimeout,
    Duration responseTimeout,
    Duration responseBodyIdleTimeout,
    AgentTerms terms,
    HealthCheck healthCheck,
    Duration reportInterval,
    HubTrust hubTrust) {

  public static final String PREFIX = "slime.agent.";
  public static final int MAX_WORKERS = 10_000;

  /** Keeps a response head plus its inline body well inside the codec's frame limit. */
  public static final int MAX_INLINE_BODY_LIMIT = 1024 * 1024;

  /** A request target without spaces or control characters, as a health check path must be. */
  private static final Pattern AGENT_ID = Pattern.compile("[\\x21-\\x7e]{1,128}");

  private static final Pattern TARGET = Pattern.compile("/[\\x21-\\x7e]*");

  /**
   * The active health check of each upstream.
   *
   * @param path request target the agent GETs on each upstream (after the upstream's base path);
   *     empty when the check is off and every upstream counts as healthy
   * @param interval pause between the end of one check and the start of the next
   * @param unhealthyAfter consecutive failures that make a healthy upstream unhealthy
   * @param healthyAfter consecutive successes that make an unhealthy upstream healthy again
   */
  public record HealthCheck(
      String path, Duration interval, Duration timeout, int unhealthyAfter, int healthyAfter) {
    public boolean enabled() {
      return !path.isEmpty();
    }
  }

  public static AgentSettings create(Config config) {
    String token = config.getString(PREFIX + "token").strip();
    if (token.isEmpty()) {
      throw bad("token", "is required: the agent token printed by `slime hub register`");
    }
    List<ServiceAddress> hubs =
        addresses(config, "hub", "is required: the hub's address (host:port or URL), or several");
    List<ServiceAddress> upstreams =
        addresses(
            config, "upstreams", "is required: at least one upstream address (host:port or URL)");

    int numWorker = config.getInt(PREFIX + "num-worker");
    if (numWorker < 1 || numWorker > MAX_WORKERS) {
      throw bad("num-worker", "must be between 1 and " + MAX_WORKERS + ", was " + numWorker);
    }

    String agentId = config.getString(PREFIX + "agent-id").strip();
    if (!agentId.isEmpty() && !isValidAgentId(agentId)) {
      throw bad("agent-id", "must be 1 to 128 printable ASCII characters without spaces");
    }

    Path idFile;
    try {
      idFile = Path.of(config.getString(PREFIX + "id-file"));
    } catch (InvalidPathException e) {
      throw bad("id-file", "is not a valid path: " + e.getMessage());
    }

    Duration minBackoff = positive(config, "reconnect.min-backoff");
    Duration maxBackoff = positive(config, "reconnect.max-backoff");
    if (maxBackoff.compareTo(minBackoff) < 0) {
      throw bad("reconnect.max-backoff", "must not be below reconnect.min-backoff");
    }
    double randomFactor = config.getDouble(PREFIX + "reconnect.random-factor");
    if (randomFactor < 0 || randomFactor > 1) {
      throw bad("reconnect.random-factor", "must be between 0 and 1, was " + randomFactor);
    }
    Duration keepAlive = positive(config, "keep-alive");

    long inline = config.getBytes(PREFIX + "inline-body-limit");
    if (inline < 0 || inline > MAX_INLINE_BODY_LIMIT) {
      throw bad("inline-body-limit", "must be between 0 and 1MiB, was " + inline);
    }
    Duration connectingTimeout = positive(config, "upstream.connecting-timeout");
    Optional<Duration> idleTimeout =
        "infinite".equals(config.getValue(PREFIX + "upstream.idle-timeout").unwrapped())
            ? Optional.empty()
            : Optional.of(positive(config, "upstream.idle-timeout"));

    return new AgentSettings(
        token,
        hubs,
        upstreams,
        numWorker,
        agentId,
        idFile,
        minBackoff,
        maxBackoff,
        randomFactor,
        keepAlive,
        (int) inline,
        connectingTimeout,
        idleTimeout,
        positive(config, "response-timeout"),
        positive(config, "response-body-idle-timeout"),
        terms(config),
        healthCheck(config),
        positive(config, "report-interval"),
        HubTrust.create(config));
  }

  /** The agent's own terms; an absent (null) weight, rpm or bpm leaves that term unset. */
  private static AgentTerms terms(Config config) {
    Integer weight = null;
    if (config.hasPath(PREFIX + "weight")) {
      weight = config.getInt(PREFIX + "weight");
      if (weight < 0 || weight > AgentTerms.MAX_WEIGHT) {
        throw bad("weight", "must be between 0 and " + AgentTerms.MAX_WEIGHT + ", was " + weight);
      }
    }
    Long rpm = null;
    if (config.hasPath(PREFIX + "rpm")) {
      rpm = config.getLong(PREFIX + "rpm");
      if (rpm < 0) {
        throw bad("rpm", "must not be negative, was " + rpm);
      }
    }
    Long bpm = null;
    if (config.hasPath(PREFIX + "bpm")) {
      bpm = config.getBytes(PREFIX + "bpm");
      if (bpm < 0) {
        throw bad("bpm", "must not be negative, was " + bpm);
      }
    }
    return new AgentTerms(weight, labels(config), rpm, bpm);
  }

  /** An object of strings in files; one "k=v,k2=v2" string from flags and the environment. */
  private static Map<String, String> labels(Config config) {
    String path = PREFIX + "labels";
    try {
      if (!config.hasPath(path)) {
        return Map.of();
      }
      if (config.getValue(path).valueType() != ConfigValueType.OBJECT) {
        return Labels.parse(config.getString(path));
      }
      ConfigObject object = config.getObject(path);
      Map<String, String> labels = new TreeMap<>();
      for (String key : object.keySet()) {
        ConfigValueType type = object.get(key).valueType();
        if (type == ConfigValueType.OBJECT
            || type == ConfigValueType.LIST
            || type == ConfigValueType.NULL) {
          throw bad(
              "labels",
              "the value of '" + key + "' must be a string (quote keys with dots: \"a.b\" = c)");
        }
        Labels.put(labels, key + "=" + object.toConfig().getString(ConfigUtil.quoteString(key)));
      }
      return labels;
    } catch (IllegalArgumentException e) {
      throw bad("labels", e.getMessage());
    }
  }

  private static HealthCheck healthCheck(Config config) {
    String path = config.getString(PREFIX + "health-check.path").strip();
    if (!path.isEmpty() && !TARGET.matcher(path).matches()) {
      throw bad("health-check.path", "must start with / and hold no spaces or control characters");
    }
    return new HealthCheck(
        path,
        positive(config, "health-check.interval"),
        positive(config, "health-check.timeout"),
        atLeastOne(config, "health-check.unhealthy-after"),
        atLeastOne(config, "health-check.healthy-after"));
  }

  private static int atLeastOne(Config config, String key) {
    int n = config.getInt(PREFIX + key);
    if (n < 1) {
      throw bad(key, "must be at least 1, was " + n);
    }
    return n;
  }

  /** Never prints the token. */
  @Override
  public String toString() {
    return "AgentSettings[hubs="
        + hubs
        + ", upstreams="
        + upstreams
        + ", numWorker="
        + numWorker
        + ", agentId="
        + (agentId.isEmpty() ? "(from " + idFile + ")" : agentId)
        + ", terms="
        + terms
        + ", healthCheck="
        + (healthCheck.enabled() ? healthCheck.path() : "off")
        + "]";
  }

  /** A list in files; one comma-separated string from flags and the environment (a:1,b:2). */
  private static List<ServiceAddress> addresses(Config config, String key, String whenMissing) {
    String path = PREFIX + key;
    List<String> texts;
    if (config.getValue(path).valueType() == ConfigValueType.LIST) {
      texts = config.getStringList(path);
    } else {
      texts = Arrays.asList(config.getString(path).split(","));
    }
    List<ServiceAddress> addresses = new ArrayList<>();
    for (String text : texts) {
      if (!text.isBlank()) {
        addresses.add(address(key, text.strip()));
      }
    }
    if (addresses.isEmpty()) {
      throw bad(key, whenMissing);
    }
    return List.copyOf(addresses);
  }

  private static ServiceAddress address(String key, String text) {
    if (text.isBlank()) {
      throw bad(key, "is required: host:port or http(s)://host:port");
    }
    try {
      return ServiceAddress.parse(text);
    } catch (IllegalArgumentException e) {
      throw bad(key, e.getMessage());
    }
  }

  private static Duration positive(Config config, String key) {
    Duration d = config.getDuration(PREFIX + key);
    if (d.isNegative() || d.isZero()) {
      throw bad(key, "must be positive, was " + d);
    }
    return d;
  }

  /** An agent id as given or kept in the id file: 1 to 128 printable ASCII characters. */
  public static boolean isValidAgentId(String id) {
    return AGENT_ID.matcher(id).matches();
  }

  /** A bad value of {@code slime.agent.<key>}, for the message that names the key. */
  public static ConfigException.BadValue bad(String key, String reason) {
    return new ConfigException.BadValue(PREFIX + key, reason);
  }
}
