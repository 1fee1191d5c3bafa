package io.slime.agent.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoadProbeTest {

  @Test
  void shouldReadThisLinuxMachine() throws Exception {
    assumeTrue(Files.isReadable(Path.of("/proc/stat")), "not Linux");
    LoadProbe probe = LoadProbe.ofThisMachine();

    LoadProbe.Sample first = probe.sample();
    Thread.sleep(200);
    LoadProbe.Sample second = probe.sample();

    Double cpu = ProcFiles.cpuPercent(first.cpu(), second.cpu());
    assertNotNull(cpu);
    assertTrue(cpu >= 0 && cpu <= 100, "cpu " + cpu);
    assertNotNull(second.memoryPercent());
    assertTrue(second.memoryPercent() > 0 && second.memoryPercent() < 100, "memory");
    assertNotNull(second.load1());
    assertTrue(second.load1() >= 0);
  }

  @Test
  void shouldGiveNullsWhereThereIsNoProc(@TempDir Path dir) {
    LoadProbe.Sample sample = new LoadProbe(dir, Optional.empty()).sample();

    assertEquals(new LoadProbe.Sample(null, null, null, List.of(), null), sample);
  }

  @Test
  void shouldSayWhyAnInstalledNvidiaSmiGaveNothing(@TempDir Path dir) throws Exception {
    Path missing = dir.resolve("nvidia-smi");

    LoadProbe.Sample sample = new LoadProbe(dir, Optional.of(missing)).sample();

    assertEquals(List.of(), sample.gpus());
    assertNotNull(sample.gpuProblem());
    assertTrue(sample.gpuProblem().contains("nvidia-smi"), sample.gpuProblem());
    assertNull(sample.load1());
  }
}
