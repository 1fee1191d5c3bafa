package io.slime.hub.limit;

/**
 * How many retries the hub may make: {@code percent} of the requests of the last ten seconds, plus
 * {@code minPerSecond} every second whatever the traffic, so a failing pool is not hit with twice
 * its load (the budget of Finagle and Envoy). Thread-safe.
 */
public final class RetryBudget {
  private static final int SLOTS = 10;
  private static final long SLOT_NANOS = 1_000_000_000L;

  private final double percent;
  private final int minPerSecond;
  private final RateWindow requests = new RateWindow(SLOTS, SLOT_NANOS);
  private final RateWindow retries = new RateWindow(SLOTS, SLOT_NANOS);

  public RetryBudget(double percent, int minPerSecond) {
    this.percent = percent;
    this.minPerSecond = minPerSecond;
  }

  public void recordRequest(long nowNanos) {
    requests.add(nowNanos, 1);
  }

  /** Takes one retry from the budget; false when it is spent. */
  public synchronized boolean tryRetry(long nowNanos) {
    double allowed = minPerSecond * SLOTS + requests.sum(nowNanos) * percent / 100;
    if (retries.sum(nowNanos) + 1 > allowed) {
      return false;
    }
    retries.add(nowNanos, 1);
    return true;
  }
}
