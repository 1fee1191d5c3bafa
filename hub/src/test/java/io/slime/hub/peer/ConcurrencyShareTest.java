package io.slime.hub.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ConcurrencyShareTest {

  @Test
  void shouldSplitTheLimitEvenlyWithTheRemainderToTheFirstNodes() {
    assertEquals(4, ConcurrencyShare.share(10, 3, 0));
    assertEquals(3, ConcurrencyShare.share(10, 3, 1));
    assertEquals(3, ConcurrencyShare.share(10, 3, 2));
    int sum = 0;
    for (int i = 0; i < 7; i++) {
      sum += ConcurrencyShare.share(100, 7, i);
    }
    assertEquals(100, sum, "the shares add up to the limit");
  }

  @Test
  void shouldGiveEveryNodeAtLeastOneSlotAndANodeAloneAll() {
    assertEquals(1, ConcurrencyShare.share(2, 3, 2));
    assertEquals(8, ConcurrencyShare.share(8, 1, 0));
  }
}
