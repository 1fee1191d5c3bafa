package io.slime.hub.stats;

import io.slime.hub.model.CborSerializable;

/**
 * A {@link Histogram}'s counts at one moment, as they travel between nodes.
 *
 * @param exported counts per bucket of {@link Histogram#EXPORT_BOUNDS} (not cumulative), the last
 *     one past every bound; null or empty from a node that predates them
 * @param sumNanos the sum of all recorded durations
 */
public record HistogramSnapshot(long[] counts, long[] exported, long sumNanos)
    implements CborSerializable {

  public static HistogramSnapshot empty() {
    return new HistogramSnapshot(
        new long[Histogram.BUCKETS], new long[Histogram.EXPORT_BOUNDS.length + 1], 0);
  }

  public long count() {
    long n = 0;
    for (long c : counts) {
      n += c;
    }
    return n;
  }

  public HistogramSnapshot plus(HistogramSnapshot other) {
    long[] sum = counts.clone();
    for (int i = 0; i < sum.length && i < other.counts.length; i++) {
      sum[i] += other.counts[i];
    }
    return new HistogramSnapshot(sum, plus(exported, other.exported), sumNanos + other.sumNanos);
  }

  private static long[] plus(long[] a, long[] b) {
    long[] sum = new long[Histogram.EXPORT_BOUNDS.length + 1];
    for (long[] part : new long[][] {a, b}) {
      for (int i = 0; part != null && i < part.length && i < sum.length; i++) {
        sum[i] += part[i];
      }
    }
    return sum;
  }

  /** The {@code q} quantile (0.5, 0.99) in milliseconds, rounded up to its bucket; 0 when empty. */
  public double quantileMillis(double q) {
    long total = count();
    if (total == 0) {
      return 0;
    }
    long rank = (long) Math.ceil(q * total);
    long seen = 0;
    for (int i = 0; i < counts.length; i++) {
      seen += counts[i];
      if (seen >= rank) {
        return Histogram.upperMillis(i);
      }
    }
    return Histogram.upperMillis(counts.length - 1);
  }
}
