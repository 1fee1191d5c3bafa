package io.slime.hub.stats;

import io.slime.hub.model.CborSerializable;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@link TrafficStats} at one moment, as they travel between nodes and add up across them.
 *
 * @param byClass answers by status class: [0] none (aborted), [1] 1xx ... [5] 5xx
 */
public record TrafficSnapshot(
    long[] byClass,
    Map<String, Long> errors,
    long bytesIn,
    long bytesOut,
    long retries,
    HistogramSnapshot waitTime,
    HistogramSnapshot latency,
    HistogramSnapshot duration)
    implements CborSerializable {

  public static TrafficSnapshot empty() {
    return new TrafficSnapshot(
        new long[6],
        Map.of(),
        0,
        0,
        0,
        HistogramSnapshot.empty(),
        HistogramSnapshot.empty(),
        HistogramSnapshot.empty());
  }

  public TrafficSnapshot plus(TrafficSnapshot o) {
    long[] classes = byClass.clone();
    for (int i = 0; i < classes.length && i < o.byClass.length; i++) {
      classes[i] += o.byClass[i];
    }
    Map<String, Long> sum = new TreeMap<>(errors);
    o.errors.forEach((k, v) -> sum.merge(k, v, Long::sum));
    return new TrafficSnapshot(
        classes,
        sum,
        bytesIn + o.bytesIn,
        bytesOut + o.bytesOut,
        retries + o.retries,
        waitTime.plus(o.waitTime),
        latency.plus(o.latency),
        duration.plus(o.duration));
  }

  public long requests() {
    long n = 0;
    for (long c : byClass) {
      n += c;
    }
    return n;
  }
}
