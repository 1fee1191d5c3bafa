package io.slime.hub.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class SlotChurnTest {
  private static final long SECOND = 1_000_000_000L;

  @Test
  void shouldStayQuietWhenARestartedAgentReplacesEachWorkerOnce() {
    SlotChurn churn = new SlotChurn();
    for (int worker = 0; worker < 4; worker++) {
      assertEquals(0, churn.replaced("gpu", 4, worker * SECOND));
    }
  }

  @Test
  void shouldWarnOncePerMinuteWhenTwoProcessesKeepReplacingEachOther() {
    SlotChurn churn = new SlotChurn();
    int warnings = 0;
    int lastCount = 0;
    // One worker each, replacing each other every 1.5 s for two minutes.
    for (long t = 0; t < 120 * SECOND; t += 3 * SECOND / 2) {
      int count = churn.replaced("shared", 1, t);
      if (count > 0) {
        warnings++;
        lastCount = count;
      }
    }
    assertEquals(2, warnings);
    assertEquals(41, lastCount, "replacements in the minute before the second warning");
  }

  @Test
  void shouldForgetAnAgentThatLeft() {
    SlotChurn churn = new SlotChurn();
    for (int i = 0; i < SlotChurn.LIMIT + 1; i++) {
      churn.replaced("gpu", 1, i);
    }
    churn.forget("gpu");
    assertEquals(0, churn.replaced("gpu", 1, 10));
  }
}
