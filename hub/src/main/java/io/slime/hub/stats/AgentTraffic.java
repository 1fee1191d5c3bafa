package io.slime.hub.stats;

import io.slime.hub.limit.RateWindow;

/**
 * One agent's traffic through this node: its {@link TrafficStats}, the request and byte windows its
 * per-minute limits are checked against, and a moving average of its latency for performance-based
 * balancing. Shared by the dispatcher, the agent's workers and its body streams; thread-safe.
 */
public final class AgentTraffic {
  /** Weight of the newest latency in the moving average. */
  private static final double EWMA_WEIGHT = 0.2;

  private final TrafficStats stats = new TrafficStats();
  private final RateWindow requests = RateWindow.perMinute();
  private final RateWindow bytes = RateWindow.perMinute();
  private double latencyMs;
  private volatile long lastSeenNanos = System.nanoTime();

  public TrafficStats stats() {
    return stats;
  }

  /** A request was given to one of the agent's workers here. */
  public void started(long nowNanos) {
    requests.add(nowNanos, 1);
  }

  /** Body bytes crossed one of the agent's workers here, either way. */
  public void bytes(long n, boolean toUpstream) {
    bytes.add(System.nanoTime(), n);
    if (toUpstream) {
      stats.bytesIn(n);
    } else {
      stats.bytesOut(n);
    }
  }

  /** The agent answered a request's head after {@code nanos}. */
  public void answered(int status, long nanos) {
    stats.answered(status, null, nanos);
    synchronized (this) {
      double ms = nanos / 1e6;
      latencyMs = latencyMs == 0 ? ms : latencyMs + EWMA_WEIGHT * (ms - latencyMs);
    }
  }

  public synchronized double latencyMs() {
    return latencyMs;
  }

  public long requestsLastMinute(long nowNanos) {
    return requests.sum(nowNanos);
  }

  public long bytesLastMinute(long nowNanos) {
    return bytes.sum(nowNanos);
  }

  /** Nanoseconds until the request or byte count of the last minute next drops. */
  public long untilWindowDrops(long nowNanos) {
    long r = requests.untilNextDrop(nowNanos);
    long b = bytes.untilNextDrop(nowNanos);
    return r == 0 ? b : b == 0 ? r : Math.min(r, b);
  }

  /** Marks the agent present (it has workers here); see {@link #lastSeenNanos}. */
  public void seen(long nowNanos) {
    lastSeenNanos = nowNanos;
  }

  public long lastSeenNanos() {
    return lastSeenNanos;
  }
}
