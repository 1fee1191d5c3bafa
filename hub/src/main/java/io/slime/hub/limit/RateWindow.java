package io.slime.hub.limit;

/**
 * Counts over a sliding window made of equal slots (a minute as 60 seconds, say): what was added in
 * the last window, to within one slot. Thread-safe; memory is one long per slot.
 */
public final class RateWindow {
  private final long slotNanos;
  private final long[] counts;
  private final long[] slotOf; // which absolute slot each entry holds
  private long total;

  public RateWindow(int slots, long slotNanos) {
    this.slotNanos = slotNanos;
    this.counts = new long[slots];
    this.slotOf = new long[slots];
    java.util.Arrays.fill(slotOf, Long.MIN_VALUE);
  }

  /** A minute, in seconds. */
  public static RateWindow perMinute() {
    return new RateWindow(60, 1_000_000_000L);
  }

  public synchronized void add(long nowNanos, long amount) {
    long slot = Math.floorDiv(nowNanos, slotNanos);
    int i = index(slot);
    if (slotOf[i] != slot) {
      expire(slot);
      slotOf[i] = slot;
    }
    counts[i] += amount;
    total += amount;
  }

  /** What was added in the window ending now. */
  public synchronized long sum(long nowNanos) {
    expire(Math.floorDiv(nowNanos, slotNanos));
    return total;
  }

  /**
   * Nanoseconds until the oldest amount still counted leaves the window (so the sum drops), or 0
   * when nothing is counted.
   */
  public synchronized long untilNextDrop(long nowNanos) {
    long slot = Math.floorDiv(nowNanos, slotNanos);
    expire(slot);
    long oldest = Long.MAX_VALUE;
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] != 0 && slotOf[i] < oldest) {
        oldest = slotOf[i];
      }
    }
    if (oldest == Long.MAX_VALUE) {
      return 0;
    }
    return (oldest + counts.length) * slotNanos - nowNanos;
  }

  /** Drops slots that fell out of the window ending in {@code slot}. */
  private void expire(long slot) {
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] != 0 && slotOf[i] <= slot - counts.length) {
        total -= counts[i];
        counts[i] = 0;
      }
    }
  }

  private int index(long slot) {
    return (int) Math.floorMod(slot, (long) counts.length);
  }
}
