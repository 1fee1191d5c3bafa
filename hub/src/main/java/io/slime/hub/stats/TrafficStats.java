package io.slime.hub.stats;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of the requests through a hub node, or through one agent's workers on it: answers by
 * status class, errors by kind, body bytes both ways, retries, and how long requests waited, took
 * to their response head (latency) and to their end (duration). Thread-safe: the front door, the
 * workers and the body streams all record here.
 */
public final class TrafficStats {
  private final LongAdder[] byClass = new LongAdder[6];
  private final ConcurrentHashMap<String, LongAdder> errors = new ConcurrentHashMap<>();
  private final LongAdder bytesIn = new LongAdder();
  private final LongAdder bytesOut = new LongAdder();
  private final LongAdder retries = new LongAdder();
  private final Histogram wait = new Histogram();
  private final Histogram latency = new Histogram();
  private final Histogram duration = new Histogram();

  public TrafficStats() {
    for (int i = 0; i < byClass.length; i++) {
      byClass[i] = new LongAdder();
    }
  }

  /** An answer went out: its status, and the hub's error code when the hub made it (else null). */
  public void answered(int status, String errorCode, long latencyNanos) {
    byClass[status >= 100 && status < 600 ? status / 100 : 0].increment();
    if (errorCode != null) {
      error(errorCode);
    }
    latency.record(latencyNanos);
  }

  /** The exchange ended, body and all. */
  public void ended(long durationNanos) {
    duration.record(durationNanos);
  }

  public void error(String kind) {
    errors.computeIfAbsent(kind, k -> new LongAdder()).increment();
  }

  public void waited(long nanos) {
    wait.record(nanos);
  }

  public void bytesIn(long n) {
    bytesIn.add(n);
  }

  public void bytesOut(long n) {
    bytesOut.add(n);
  }

  public void retried() {
    retries.increment();
  }

  public TrafficSnapshot snapshot() {
    long[] classes = new long[byClass.length];
    for (int i = 0; i < classes.length; i++) {
      classes[i] = byClass[i].sum();
    }
    Map<String, Long> errorCounts = new TreeMap<>();
    errors.forEach((k, v) -> errorCounts.put(k, v.sum()));
    return new TrafficSnapshot(
        classes,
        errorCounts,
        bytesIn.sum(),
        bytesOut.sum(),
        retries.sum(),
        wait.snapshot(),
        latency.snapshot(),
        duration.snapshot());
  }
}
