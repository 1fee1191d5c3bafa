package io.slime.hub.limit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LimitsTest {
  private static final long SECOND = 1_000_000_000L;

  @Test
  void shouldCountTheLastSixtySecondsInAMinuteWindowAndSayWhenItDrops() {
    RateWindow window = RateWindow.perMinute();
    long t0 = 1000 * SECOND;
    window.add(t0, 5);
    window.add(t0 + 30 * SECOND, 2);
    assertEquals(7, window.sum(t0 + 59 * SECOND));
    assertEquals(SECOND, window.untilNextDrop(t0 + 59 * SECOND), "t0's slot leaves at t0 + 60 s");
    assertEquals(2, window.sum(t0 + 60 * SECOND));
    assertEquals(0, window.sum(t0 + 91 * SECOND));
    assertEquals(0, window.untilNextDrop(t0 + 91 * SECOND));
    // A slot reused after a full turn starts from zero.
    window.add(t0 + 120 * SECOND, 1);
    assertEquals(1, window.sum(t0 + 120 * SECOND));
  }

  @Test
  void shouldHandleNegativeNanoTimeInAWindow() {
    RateWindow window = RateWindow.perMinute();
    window.add(-5 * SECOND, 3);
    assertEquals(3, window.sum(-1));
    assertEquals(3, window.sum(50 * SECOND));
    assertEquals(0, window.sum(56 * SECOND));
  }

  @Test
  void shouldAllowAShareOfRequestsPlusAFloorInTheRetryBudget() {
    RetryBudget budget = new RetryBudget(20, 1);
    long now = 500 * SECOND;
    // Floor: 1 per second over the ten-second window.
    for (int i = 0; i < 10; i++) {
      assertTrue(budget.tryRetry(now), "retry " + i);
    }
    assertFalse(budget.tryRetry(now), "the floor is spent");
    for (int i = 0; i < 100; i++) {
      budget.recordRequest(now);
    }
    for (int i = 0; i < 20; i++) {
      assertTrue(budget.tryRetry(now), "20% of 100 requests");
    }
    assertFalse(budget.tryRetry(now));
    assertTrue(budget.tryRetry(now + 11 * SECOND), "the window moved on");
  }

  @Test
  void shouldGiveAClientItsBurstThenItsRateAndTellItHowLongToWait() {
    ClientRateLimiter limiter = new ClientRateLimiter(60, 3); // one a second, three at once
    long now = 100 * SECOND;
    for (int i = 0; i < 3; i++) {
      assertEquals(0, limiter.acquire("10.0.0.1", now));
    }
    long wait = limiter.acquire("10.0.0.1", now);
    assertTrue(wait > 0.9 * SECOND && wait <= SECOND, "about a second: " + wait);
    assertEquals(0, limiter.acquire("10.0.0.2", now), "another client has its own bucket");
    assertEquals(0, limiter.acquire("10.0.0.1", now + SECOND));
    limiter.resize(30); // a second node joined: half the rate here
    assertTrue(limiter.acquire("10.0.0.1", now + SECOND) > 1.9 * SECOND);
  }
}
