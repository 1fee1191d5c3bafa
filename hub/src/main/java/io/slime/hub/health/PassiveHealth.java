package io.slime.hub.health;

import java.time.Duration;

/**
 * The hub's own judgement of one agent, from how its requests end: after {@code failures}
 * consecutive failures (the agent could not reach its upstream, or timed out, or 5xx when counted)
 * the agent is ejected for a cooldown that doubles on each repeat up to {@code maxCooldown}; then
 * it comes back in slow start, its share ramping from 10% to full over {@code slowStart}. A quiet
 * spell of {@code maxCooldown} after coming back forgets the repeats. Used by the dispatcher only.
 */
public final class PassiveHealth {

  /** The settings under {@code slime.hub.health.passive}; {@code failures} 0 turns it off. */
  public record Settings(
      int failures, Duration cooldown, Duration maxCooldown, boolean count5xx, Duration slowStart) {
    public static final Settings OFF =
        new Settings(0, Duration.ofSeconds(10), Duration.ofMinutes(5), false, Duration.ZERO);
  }

  private static final double RAMP_FLOOR = 0.1;

  private final Settings settings;
  private int consecutiveFailures;
  private int ejections;
  private int repeats;
  private long ejectedUntilNanos;
  private long readmittedAtNanos;
  private boolean ejected;
  private boolean justReadmitted;

  public PassiveHealth(Settings settings) {
    this.settings = settings;
  }

  /** A request ended well. */
  public void success() {
    consecutiveFailures = 0;
  }

  /** A request failed; true when this failure ejects the agent. */
  public boolean failure(long nowNanos) {
    if (settings.failures() == 0 || isEjected(nowNanos)) {
      return false;
    }
    if (++consecutiveFailures < settings.failures()) {
      return false;
    }
    if (readmittedAtNanos != 0 && nowNanos - readmittedAtNanos > settings.maxCooldown().toNanos()) {
      repeats = 0;
    }
    long cooldown =
        Math.min(
            settings.cooldown().toNanos() << Math.min(repeats, 20),
            settings.maxCooldown().toNanos());
    ejectedUntilNanos = nowNanos + cooldown;
    ejected = true;
    repeats++;
    ejections++;
    consecutiveFailures = 0;
    return true;
  }

  /**
   * Whether the agent is ejected now. The first call after the cooldown readmits it (slow start
   * begins); {@link #readmitted} tells that call apart.
   */
  public boolean isEjected(long nowNanos) {
    if (ejected && nowNanos - ejectedUntilNanos >= 0) {
      ejected = false;
      readmittedAtNanos = nowNanos;
      justReadmitted = true;
    }
    return ejected;
  }

  /** True once after the agent came back from an ejection. */
  public boolean readmitted() {
    boolean was = justReadmitted;
    justReadmitted = false;
    return was;
  }

  /** Another node ejected the same agent until then: hold it out here too. */
  public void ejectedElsewhere(long untilNanos, long nowNanos) {
    if (untilNanos - nowNanos > 0 && (!ejected || untilNanos - ejectedUntilNanos > 0)) {
      ejected = true;
      ejectedUntilNanos = untilNanos;
    }
  }

  /** The agent's share while it comes back: from 0.1 to 1 over the slow-start period. */
  public double ramp(long nowNanos) {
    long slowStart = settings.slowStart().toNanos();
    if (readmittedAtNanos == 0 || slowStart == 0) {
      return 1;
    }
    double done = (double) (nowNanos - readmittedAtNanos) / slowStart;
    return done >= 1 ? 1 : RAMP_FLOOR + (1 - RAMP_FLOOR) * Math.max(0, done);
  }

  /** Whether 5xx answers count as failures. */
  public boolean counts5xx() {
    return settings.count5xx();
  }

  /** When the current ejection ends (System.nanoTime), or 0 when not ejected. */
  public long ejectedUntilNanos() {
    return ejected ? ejectedUntilNanos : 0;
  }

  public int ejections() {
    return ejections;
  }

  public int consecutiveFailures() {
    return consecutiveFailures;
  }
}
