package io.slime.hub.http;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.slime.hub.dispatch.DispatchSettings;
import io.slime.hub.health.PassiveHealth;
import io.slime.hub.peer.ClusterSettings;
import io.slime.hub.policy.Routing;
import io.slime.hub.tls.TlsSettings;
import io.slime.shared.agent.AgentTerms;
import java.time.Duration;
import java.util.HashSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/** The hub's settings, read once from {@code slime.hub}; invalid values name their key. */
public record HubSettings(
    String host,
    int port,
    String secret,
    String appPassword,
    String adminToken,
    int concurrent,
    int queueMaxLength,
    Duration queueMaxWait,
    Duration cancelTimeout,
    int inlineBodyLimit,
    Duration keepAlive,
    Duration clientIdleTimeout,
    Duration clientHeadTimeout,
    Duration clientBodyTimeout,
    int maxConnections,
    int reservedDescriptors,
    Duration shutdownGrace,
    ClusterSettings cluster,
    Traffic traffic,
    Optional<TlsSettings> tls) {

  /**
   * The traffic policy: routing, priorities, agents' defaults, limits, real client IPs, health and
   * retries.
   */
  public record Traffic(
      int maxPriority,
      int defaultPriority,
      Routing routing,
      AgentTerms agentDefaults,
      int clientRpm,
      int clientBurst,
      RealIp realIp,
      PassiveHealth.Settings passiveHealth,
      DispatchSettings.Retries retries,
      boolean statusRequiresToken,
      boolean metricsRequireToken) {}

  /** What this node's dispatcher works with. */
  public DispatchSettings dispatchSettings() {
    return new DispatchSettings(
        queueMaxLength,
        queueMaxWait,
        traffic.maxPriority(),
        traffic.agentDefaults(),
        traffic.passiveHealth(),
        traffic.retries(),
        traffic.routing().ipHashFallback(),
        cluster.enabled()
            ? new DispatchSettings.Peers(cluster.statusInterval(), inlineBodyLimit)
            : null);
  }

  private static final String PREFIX = "slime.hub.";

  public static HubSettings create(Config root) {
    Config c = root.getConfig("slime.hub");
    String secret = c.getString("secret");
    if (secret.isBlank()) {
      throw new ConfigException.BadValue(PREFIX + "secret", "a secret is required");
    }
    return new HubSettings(
        c.getString("host"),
        intIn(c, "port", 0, 65535),
        secret,
        c.getString("app-password"),
        c.getString("admin-token"),
        intIn(c, "concurrent", 0, Integer.MAX_VALUE),
        intIn(c, "queue.max-length", 0, Integer.MAX_VALUE),
        positive(c, "queue.max-wait"),
        positive(c, "cancel-timeout"),
        (int) Math.min(c.getBytes("inline-body-limit"), 1024 * 1024),
        positive(c, "keep-alive"),
        positive(c, "client-idle-timeout"),
        positive(c, "client-head-timeout"),
        positive(c, "client-body-timeout"),
        maxConnections(c),
        intIn(c, "reserved-descriptors", 0, 1_000_000),
        positive(c, "shutdown-grace"),
        ClusterSettings.create(c),
        traffic(c),
        TlsSettings.create(c));
  }

  private static Traffic traffic(Config c) {
    int maxPriority = intIn(c, "queue.max-priority", 0, 100);
    int defaultPriority = intIn(c, "queue.default-priority", 0, maxPriority);
    AgentTerms defaults =
        new AgentTerms(
            intIn(c, "agent-defaults.weight", 0, AgentTerms.MAX_WEIGHT),
            null,
            nonNegative(c, "agent-defaults.rpm"),
            bytes(c, "agent-defaults.bpm"));
    PassiveHealth.Settings passive =
        new PassiveHealth.Settings(
            intIn(c, "health.passive.failures", 0, 1000),
            positive(c, "health.passive.cooldown"),
            positive(c, "health.passive.max-cooldown"),
            bool(c, "health.passive.eject-on-5xx"),
            nonNegativeDuration(c, "health.passive.slow-start"));
    Set<String> methods = new HashSet<>();
    for (String method : c.getStringList("retry.methods")) {
      String upper = method.strip().toUpperCase(Locale.ROOT);
      if (!upper.matches("[A-Z]+")) {
        throw new ConfigException.BadValue(
            PREFIX + "retry.methods", "'" + method + "' is not a method");
      }
      methods.add(upper);
    }
    DispatchSettings.Retries retries =
        new DispatchSettings.Retries(
            Set.copyOf(methods),
            intIn(c, "retry.budget-percent", 0, 100),
            intIn(c, "retry.budget-min-per-second", 0, 100_000));
    return new Traffic(
        maxPriority,
        defaultPriority,
        Routing.create(c.getConfig("routing"), PREFIX + "routing"),
        defaults,
        intIn(c, "client-limit.rpm", 0, Integer.MAX_VALUE),
        intIn(c, "client-limit.burst", 0, Integer.MAX_VALUE),
        RealIp.create(c.getConfig("real-ip"), PREFIX + "real-ip"),
        passive,
        retries,
        bool(c, "status-requires-token"),
        bool(c, "metrics-requires-token"));
  }

  /** A number, or 0 for "auto": as many as the descriptor limit leaves room for. */
  private static int maxConnections(Config c) {
    if (c.getValue("max-connections").unwrapped() instanceof String value
        && value.strip().equalsIgnoreCase("auto")) {
      return 0;
    }
    return intIn(c, "max-connections", 1, Integer.MAX_VALUE);
  }

  private static long nonNegative(Config c, String key) {
    long value;
    try {
      value = c.getLong(key);
    } catch (ConfigException.WrongType e) {
      throw new ConfigException.BadValue(PREFIX + key, "must be a whole number");
    }
    if (value < 0) {
      throw new ConfigException.BadValue(PREFIX + key, "must not be negative, was " + value);
    }
    return value;
  }

  private static long bytes(Config c, String key) {
    long value;
    try {
      value = c.getBytes(key);
    } catch (ConfigException.BadValue | ConfigException.WrongType e) {
      throw new ConfigException.BadValue(PREFIX + key, "must be a byte size such as 10MiB, or 0");
    }
    if (value < 0) {
      throw new ConfigException.BadValue(PREFIX + key, "must not be negative");
    }
    return value;
  }

  private static Duration nonNegativeDuration(Config c, String key) {
    Duration d = duration(c, key);
    if (d.isNegative()) {
      throw new ConfigException.BadValue(PREFIX + key, "must not be negative");
    }
    return d;
  }

  private static int intIn(Config c, String key, int min, int max) {
    int value;
    try {
      value = c.getInt(key);
    } catch (ConfigException.WrongType e) {
      throw new ConfigException.BadValue(PREFIX + key, "must be a whole number");
    }
    if (value < min || value > max) {
      throw new ConfigException.BadValue(
          PREFIX + key, "must be between " + min + " and " + max + ", was " + value);
    }
    return value;
  }

  private static Duration positive(Config c, String key) {
    Duration d = duration(c, key);
    if (d.isNegative() || d.isZero()) {
      throw new ConfigException.BadValue(PREFIX + key, "must be a positive duration");
    }
    return d;
  }

  // Pekko's config reader names keys relative to slime.hub; an operator's file names them in full.

  private static Duration duration(Config c, String key) {
    try {
      return c.getDuration(key);
    } catch (ConfigException.BadValue | ConfigException.WrongType e) {
      throw new ConfigException.BadValue(PREFIX + key, "must be a duration such as 30s or 5m");
    }
  }

  private static boolean bool(Config c, String key) {
    try {
      return c.getBoolean(key);
    } catch (ConfigException.WrongType e) {
      throw new ConfigException.BadValue(PREFIX + key, "must be on or off");
    }
  }
}
