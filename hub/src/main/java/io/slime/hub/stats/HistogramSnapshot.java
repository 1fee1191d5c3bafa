package io.slime.hub.stats;

import io.slime.hub.model.CborSerializable;

/** A {@link Histogram}'s counts at one moment, as they travel between nodes. */
public record HistogramSnapshot(long[] counts) implements CborSerializable {

  public static HistogramSnapshot empty() {
    return new HistogramSnapshot(new long[Histogram.BUCKETS]);
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
    return new HistogramSnapshot(sum);
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
