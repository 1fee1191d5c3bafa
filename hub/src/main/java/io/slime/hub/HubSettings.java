package io.slime.hub;

import io.slime.hub.cluster.ClusterSettings;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;

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
    int maxConnections,
    Duration shutdownGrace,
    ClusterSettings cluster) {

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
        intIn(c, "max-connections", 1, Integer.MAX_VALUE),
        positive(c, "shutdown-grace"),
        ClusterSettings.create(c));
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
    Duration d = c.getDuration(key);
    if (d.isNegative() || d.isZero()) {
      throw new ConfigException.BadValue(PREFIX + key, "must be a positive duration");
    }
    return d;
  }
}
