package io.slime.shared.log;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class LogThrottleTest {
  @Test
  void shouldLetOneThroughPerIntervalAndCountTheRest() {
    LogThrottle throttle = new LogThrottle(Duration.ofSeconds(10));
    long second = 1_000_000_000L;
    assertEquals(0, throttle.admit(0));
    assertEquals(-1, throttle.admit(second));
    assertEquals(-1, throttle.admit(9 * second));
    assertEquals(2, throttle.admit(10 * second));
    assertEquals(0, throttle.admit(25 * second));
  }
}
