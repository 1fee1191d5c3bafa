package io.slime.hub.limit;

import java.util.concurrent.ConcurrentHashMap;

/**
 * The per-client request rate at the hub: a token bucket per client IP that refills at {@code
 * perMinute} / 60 a second and holds at most {@code burst}. In a cluster each node gets its share
 * of the rate ({@link #resize}). Thread-safe; buckets of clients gone quiet are dropped now and
 * then.
 */
public final class ClientRateLimiter {
  private static final long MINUTE_NANOS = 60_000_000_000L;
  private static final int PRUNE_EVERY = 4096;

  private final int burst;
  private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();
  private volatile double perNano;
  private volatile double capacity;
  private int sincePrune;

  private static final class Bucket {
    double tokens;
    long updatedNanos;

    Bucket(double tokens, long now) {
      this.tokens = tokens;
      this.updatedNanos = now;
    }
  }

  /**
   * @param perMinute requests a client may make per minute, above 0
   * @param burst most requests at once after a quiet spell; 0 for a tenth of a minute's worth
   */
  public ClientRateLimiter(int perMinute, int burst) {
    this.burst = burst;
    resize(perMinute);
  }

  /** This node's share of the per-minute rate. */
  public void resize(int perMinute) {
    this.perNano = (double) perMinute / MINUTE_NANOS;
    this.capacity = burst > 0 ? burst : Math.max(1, perMinute / 10.0);
  }

  /**
   * Takes one request for {@code client}: 0 when it may go ahead, else the nanoseconds until it may
   * (for Retry-After).
   */
  public long acquire(String client, long nowNanos) {
    maybePrune(nowNanos);
    Bucket bucket = buckets.computeIfAbsent(client, c -> new Bucket(capacity, nowNanos));
    synchronized (bucket) {
      bucket.tokens =
          Math.min(capacity, bucket.tokens + (nowNanos - bucket.updatedNanos) * perNano);
      bucket.updatedNanos = nowNanos;
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return (long) Math.ceil((1 - bucket.tokens) / perNano);
    }
  }

  /** Forgets buckets that have refilled: those clients start full again anyway. */
  private void maybePrune(long nowNanos) {
    synchronized (this) {
      if (++sincePrune < PRUNE_EVERY) {
        return;
      }
      sincePrune = 0;
    }
    buckets
        .entrySet()
        .removeIf(
            e -> {
              Bucket b = e.getValue();
              synchronized (b) {
                return b.tokens + (nowNanos - b.updatedNanos) * perNano >= capacity;
              }
            });
  }
}
