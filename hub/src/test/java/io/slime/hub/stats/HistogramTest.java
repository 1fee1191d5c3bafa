package io.slime.hub.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class HistogramTest {

  @Test
  void shouldKeepQuantilesWithinTheBucketWidthAndAddUpSnapshots() {
    Histogram a = new Histogram();
    Histogram b = new Histogram();
    for (int ms = 1; ms <= 100; ms++) {
      (ms % 2 == 0 ? a : b).record(ms * 1_000_000L);
    }
    HistogramSnapshot both = a.snapshot().plus(b.snapshot());
    assertEquals(100, both.count());
    assertEquals(50, both.quantileMillis(0.5), 50 * 0.1);
    assertEquals(99, both.quantileMillis(0.99), 99 * 0.1);
    assertEquals(0, HistogramSnapshot.empty().quantileMillis(0.5));
    Histogram extremes = new Histogram();
    extremes.record(0);
    extremes.record(Long.MAX_VALUE);
    assertEquals(2, extremes.snapshot().count());
  }
}
