package io.slime.agent.connection;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with jitter between reconnection attempts: {@code min * 2^n}, capped at
 * {@code max}, stretched by up to {@code randomFactor} so that many workers which lost the hub at
 * the same moment do not come back in step.
 */
final class Backoff {
  private final Duration min;
  private final Duration max;
  private final double randomFactor;
  private int failures;

  Backoff(Duration min, Duration max, double randomFactor) {
    this.min = min;
    this.max = max;
    this.randomFactor = randomFactor;
  }

  /** The wait before the next attempt; each call doubles the following one, up to the cap. */
  Duration next() {
    double base = Math.min(max.toNanos(), min.toNanos() * Math.pow(2, Math.min(failures, 30)));
    failures++;
    double jitter = 1 + ThreadLocalRandom.current().nextDouble() * randomFactor;
    return Duration.ofNanos((long) (base * jitter));
  }

  void reset() {
    failures = 0;
  }
}
