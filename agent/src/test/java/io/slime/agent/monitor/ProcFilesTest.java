package io.slime.agent.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class ProcFilesTest {

  private static final String STAT_BEFORE =
      """
      cpu  4705 356 584 3699176 23060 0 277 0 100 0
      cpu0 1393280 32966 572056 13343292 6130 0 17875 0 0 0
      intr 114930548 113199788 3 0 5 263 0 4 [... lots more numbers ...]
      ctxt 1990473
      """;

  @Test
  void shouldReadCpuTimesLeavingGuestTimeOut() {
    ProcFiles.CpuTimes times = ProcFiles.cpuTimes(STAT_BEFORE);

    assertEquals(
        new ProcFiles.CpuTimes(4705 + 356 + 584 + 3699176 + 23060 + 277, 3699176 + 23060), times);
  }

  @Test
  void shouldComputeTheBusyShareBetweenTwoSamples() {
    ProcFiles.CpuTimes before = new ProcFiles.CpuTimes(1000, 800);
    ProcFiles.CpuTimes after = new ProcFiles.CpuTimes(1400, 900);

    assertEquals(75.0, ProcFiles.cpuPercent(before, after), 1e-9);
    assertNull(ProcFiles.cpuPercent(null, after), "one sample says nothing about use");
    assertNull(ProcFiles.cpuPercent(after, after), "no time passed");
  }

  @Test
  void shouldReadAnOldKernelsShortCpuLine() {
    assertEquals(new ProcFiles.CpuTimes(10, 7), ProcFiles.cpuTimes("cpu 1 1 1 7\n"));
  }

  @Test
  void shouldGiveNullForAStatItCannotRead() {
    assertNull(ProcFiles.cpuTimes(""));
    assertNull(ProcFiles.cpuTimes("cpu0 1 2 3 4 5\n"));
    assertNull(ProcFiles.cpuTimes("cpu 1 x 3 4 5\n"));
    assertNull(ProcFiles.cpuTimes("cpu 1 2\n"));
  }

  @Test
  void shouldReadMemoryInUseFromMemAvailable() {
    String meminfo =
        """
        MemTotal:       16000000 kB
        MemFree:         1000000 kB
        MemAvailable:   12000000 kB
        Buffers:          500000 kB
        """;

    assertEquals(25.0, ProcFiles.memoryPercent(meminfo), 1e-9);
    assertNull(
        ProcFiles.memoryPercent("MemTotal: 16000000 kB\nMemFree: 1000000 kB\n"),
        "kernels before 3.14 have no MemAvailable");
    assertNull(ProcFiles.memoryPercent("MemTotal: 0 kB\nMemAvailable: 0 kB\n"));
    assertNull(ProcFiles.memoryPercent("garbage"));
  }

  @Test
  void shouldReadTheOneMinuteLoad() {
    assertEquals(0.52, ProcFiles.load1("0.52 0.58 0.59 1/389 12345\n"), 1e-9);
    assertNull(ProcFiles.load1(""));
    assertNull(ProcFiles.load1("high 0.58 0.59"));
  }
}
