package io.slime.hub.http;

import com.typesafe.config.ConfigException;
import io.slime.shared.net.Descriptors;

/**
 * How many client connections (applications' and agent workers' alike) the hub holds at once:
 * {@code slime.hub.max-connections}, capped so that accepting never runs out of descriptors. Each
 * connection holds one; those the process had open at start (its jars, logs, cluster links) and
 * {@code reserved} more are left for everything else, {@link #OVERFLOW} of them for connections
 * being refused.
 *
 * @param max the limit kept
 * @param descriptorLimit the process's descriptor limit ({@code ulimit -n}), or -1 if unknown
 * @param openAtStart descriptors open when the limit was sized, or -1 if unknown
 * @param reserved descriptors kept for other uses
 * @param capped whether the descriptor limit lowered the configured number
 */
public record ConnectionLimit(
    int max, long descriptorLimit, long openAtStart, int reserved, boolean capped) {
  /** Connections accepted past the limit at once, only to be answered 503 and closed. */
  static final int OVERFLOW = 16;

  /** Where the JVM cannot tell its descriptor limit and none is configured. */
  private static final int UNKNOWN_LIMIT_DEFAULT = 10_000;

  /** {@code configured} 0 means "auto": as many as the descriptors leave room for. */
  static ConnectionLimit size(int configured, int reserved) {
    return size(configured, reserved, Descriptors.limit(), Descriptors.open());
  }

  static ConnectionLimit size(int configured, int reserved, long limit, long open) {
    if (limit < 0 || open < 0) {
      int max = configured == 0 ? UNKNOWN_LIMIT_DEFAULT : configured;
      return new ConnectionLimit(max, limit, open, reserved, false);
    }
    long room = limit - open - reserved - OVERFLOW;
    if (room < 1) {
      throw new ConfigException.BadValue(
          "slime.hub.max-connections",
          "the process may open "
              + limit
              + " descriptors (ulimit -n) and has "
              + open
              + " open: none is left for connections after slime.hub.reserved-descriptors ("
              + reserved
              + "); raise the limit");
    }
    int fit = (int) Math.min(room, Integer.MAX_VALUE);
    if (configured == 0 || configured > fit) {
      return new ConnectionLimit(fit, limit, open, reserved, configured != 0);
    }
    return new ConnectionLimit(configured, limit, open, reserved, false);
  }

  /** For the start-up log line. */
  public String describe() {
    if (descriptorLimit < 0) {
      return "at most " + max + " connections";
    }
    return "at most "
        + max
        + " connections ("
        + (capped ? "slime.hub.max-connections capped by " : "from ")
        + "the descriptor limit "
        + descriptorLimit
        + ", less "
        + openAtStart
        + " open and "
        + (reserved + OVERFLOW)
        + " reserved)";
  }
}
