package io.slime.shared.log;

import java.time.Duration;

/**
 * Lets one event through per interval and counts the others, for errors that come in floods: a
 * process out of descriptors fails every accept, as fast as it can try.
 */
public final class LogThrottle {
  private final long intervalNanos;
  private long lastNanos;
  private boolean started;
  private long quiet;

  public LogThrottle(Duration interval) {
    this.intervalNanos = interval.toNanos();
  }

  /**
   * -1 when this event should stay quiet (it is counted); otherwise it should be logged, and the
   * result is how many were kept quiet since the last one logged.
   */
  public long admit() {
    return admit(System.nanoTime());
  }

  synchronized long admit(long nowNanos) {
    if (started && nowNanos - lastNanos < intervalNanos) {
      quiet++;
      return -1;
    }
    started = true;
    lastNanos = nowNanos;
    long kept = quiet;
    quiet = 0;
    return kept;
  }
}
