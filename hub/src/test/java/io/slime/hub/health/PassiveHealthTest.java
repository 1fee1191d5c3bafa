package io.slime.hub.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class PassiveHealthTest {
  private static final long SECOND = 1_000_000_000L;
  private static final PassiveHealth.Settings SETTINGS =
      new PassiveHealth.Settings(
          3, Duration.ofSeconds(10), Duration.ofSeconds(35), false, Duration.ofSeconds(20));

  @Test
  void shouldEjectOnlyAfterThatManyFailuresInARow() {
    PassiveHealth health = new PassiveHealth(SETTINGS);
    long now = 0;
    assertFalse(health.failure(now));
    assertFalse(health.failure(now));
    health.success();
    assertFalse(health.failure(now));
    assertFalse(health.failure(now));
    assertFalse(health.isEjected(now));
    assertTrue(health.failure(now), "the third in a row");
    assertTrue(health.isEjected(now + 9 * SECOND));
    assertEquals(1, health.ejections());
  }

  @Test
  void shouldDoubleTheCooldownOnRepeatsUpToItsMaximumAndRampTheSlowStart() {
    PassiveHealth health = new PassiveHealth(SETTINGS);
    long now = 0;
    now = ejectAndWait(health, now, 10);
    // Slow start: 10% at readmission, full after 20 s.
    assertEquals(0.1, health.ramp(now), 1e-9);
    assertEquals(0.55, health.ramp(now + 10 * SECOND), 1e-9);
    assertEquals(1.0, health.ramp(now + 20 * SECOND), 1e-9);
    now = ejectAndWait(health, now, 20);
    now = ejectAndWait(health, now, 35);
    now = ejectAndWait(health, now, 35);
    // Well after coming back, the repeats are forgotten.
    now += 40 * SECOND;
    ejectAndWait(health, now, 10);
  }

  private static long ejectAndWait(PassiveHealth health, long now, int expectedSeconds) {
    for (int i = 0; i < 3; i++) {
      health.failure(now);
    }
    assertTrue(health.isEjected(now + expectedSeconds * SECOND - 1), "out for " + expectedSeconds);
    long back = now + expectedSeconds * SECOND;
    assertFalse(health.isEjected(back), "back after " + expectedSeconds + " s");
    assertTrue(health.readmitted());
    assertFalse(health.readmitted(), "said once");
    return back;
  }

  @Test
  void shouldHoldAnEjectionAtAnotherNodeHereTooAndNeverEjectWhenOff() {
    PassiveHealth health = new PassiveHealth(SETTINGS);
    health.ejectedElsewhere(5 * SECOND, 0);
    assertTrue(health.isEjected(4 * SECOND));
    assertFalse(health.isEjected(5 * SECOND));
    PassiveHealth off = new PassiveHealth(PassiveHealth.Settings.OFF);
    for (int i = 0; i < 100; i++) {
      assertFalse(off.failure(0));
    }
  }
}
