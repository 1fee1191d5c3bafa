package io.slime.hub.stats;

/**
 * Durations in logarithmic buckets, eight to each doubling from one microsecond to over an hour:
 * percentiles to within about 9%, in fixed memory, and mergeable across nodes by adding the counts.
 * Thread-safe.
 */
public final class Histogram {
  static final int PER_DOUBLING = 8;
  static final int BUCKETS = PER_DOUBLING * 33;

  private final long[] counts = new long[BUCKETS];

  public synchronized void record(long nanos) {
    counts[bucket(nanos)]++;
  }

  public synchronized HistogramSnapshot snapshot() {
    return new HistogramSnapshot(counts.clone());
  }

  static int bucket(long nanos) {
    double micros = nanos / 1000.0;
    if (micros <= 1) {
      return 0;
    }
    int b = (int) Math.ceil(Math.log(micros) / Math.log(2) * PER_DOUBLING);
    return Math.min(b, BUCKETS - 1);
  }

  /** The upper bound of bucket {@code b}, in milliseconds. */
  static double upperMillis(int b) {
    return Math.pow(2, (double) b / PER_DOUBLING) / 1000;
  }
}
