package io.slime.agent.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HealthTest {
  private static final int UNHEALTHY_AFTER = 3;
  private static final int HEALTHY_AFTER = 2;

  private static Health fail(Health h, String why) {
    return h.afterFailure(why, UNHEALTHY_AFTER);
  }

  private static Health pass(Health h) {
    return h.afterSuccess(HEALTHY_AFTER);
  }

  @Test
  void shouldStartUnhealthyAndHealOnTheFirstSuccessEvenAfterFailures() {
    assertFalse(Health.WAITING.healthy());
    assertTrue(Health.WAITING.waiting());
    assertEquals("waiting for the first health check", Health.WAITING.detail());

    Health booting = fail(fail(Health.WAITING, "GET /health answered 503"), "refused");
    assertFalse(booting.healthy());
    assertFalse(booting.waiting());
    assertEquals("refused", booting.detail());

    assertEquals(Health.HEALTHY, pass(booting));
    assertEquals(Health.HEALTHY, pass(Health.WAITING));
  }

  @Test
  void shouldTurnUnhealthyOnlyAfterEnoughFailuresInARow() {
    Health h = fail(fail(Health.HEALTHY, "a"), "b");
    assertTrue(h.healthy());
    assertFalse(h.differsFrom(Health.HEALTHY), "the hub sees nothing yet");

    Health reset = fail(pass(h), "c");
    assertTrue(reset.healthy(), "a success in between starts the count over");

    Health down = fail(h, "GET /health timed out after 2s");
    assertFalse(down.healthy());
    assertEquals("GET /health timed out after 2s", down.detail());
  }

  @Test
  void shouldHealOnlyAfterEnoughSuccessesInARowAndKeepTheLatestReason() {
    Health down = fail(fail(fail(Health.HEALTHY, "x"), "x"), "GET /health answered 503");
    Health once = pass(down);
    assertFalse(once.healthy());
    assertEquals("GET /health answered 503", once.detail());
    assertFalse(once.differsFrom(down));

    Health again = fail(once, "GET /health failed: Connection refused");
    assertEquals("GET /health failed: Connection refused", again.detail());
    assertTrue(again.differsFrom(once), "a new reason is news for the hub");
    assertFalse(pass(again).healthy(), "the failure in between started the count over");

    assertEquals(Health.HEALTHY, pass(pass(again)));
  }

  @Test
  void shouldTakeOneResultWhenTheThresholdsAreOne() {
    Health down = Health.HEALTHY.afterFailure("x", 1);
    assertFalse(down.healthy());
    assertTrue(down.afterSuccess(1).healthy());
  }
}
