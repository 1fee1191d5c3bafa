package io.slime.agent.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slime.shared.agent.AgentReport.Gpu;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

class NvidiaSmiTest {

  @TempDir Path dir;

  @Test
  void shouldParseOneGpuPerLine() {
    String csv =
        """
        0, NVIDIA A100-SXM4-40GB, 35, 1234, 40960
        1, NVIDIA GeForce RTX 3090, 100, 24000, 24576
        """;

    assertEquals(
        List.of(
            new Gpu(0, "NVIDIA A100-SXM4-40GB", 35, 1234, 40960),
            new Gpu(1, "NVIDIA GeForce RTX 3090", 100, 24000, 24576)),
        NvidiaSmi.parse(csv));
  }

  @Test
  void shouldReadUnreportedValuesAsZeroAndKeepCommasInTheName() {
    String csv = "0, Tesla K80, [N/A], [Not Supported], 11441\n3, Odd, Name, 7, 1, 2\n";

    assertEquals(
        List.of(new Gpu(0, "Tesla K80", 0, 0, 11441), new Gpu(3, "Odd, Name", 7, 1, 2)),
        NvidiaSmi.parse(csv));
  }

  @Test
  void shouldSkipWhatIsNotAGpu() {
    String csv =
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n"
            + "index, name, utilization.gpu, memory.used, memory.total\n"
            + "\n";

    assertEquals(List.of(), NvidiaSmi.parse(csv));
  }

  @Test
  void shouldFindItOnThePath() throws Exception {
    Path bin = Files.createDirectories(dir.resolve("bin"));
    assertEquals(Optional.empty(), NvidiaSmi.find(dir + File.pathSeparator + bin));
    Path smi = script(bin, "true");

    assertEquals(
        Optional.of(smi), NvidiaSmi.find("" + File.pathSeparator + dir + File.pathSeparator + bin));
    assertEquals(Optional.empty(), NvidiaSmi.find(null));
  }

  @Test
  @DisabledOnOs(OS.WINDOWS)
  void shouldRunItAndReadItsAnswer() throws Exception {
    Path smi = script(dir, "echo '0, Fake GPU, 12, 100, 1000'");

    assertEquals(
        List.of(new Gpu(0, "Fake GPU", 12, 100, 1000)),
        NvidiaSmi.query(smi, Duration.ofSeconds(2)));
  }

  @Test
  @DisabledOnOs(OS.WINDOWS)
  void shouldGiveUpOnAHungOrFailingRun() throws Exception {
    Path hung = script(dir, "sleep 5");
    long start = System.nanoTime();
    IOException slow =
        assertThrows(IOException.class, () -> NvidiaSmi.query(hung, Duration.ofMillis(200)));
    assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 2000, "not waited out");
    assertTrue(slow.getMessage().contains("did not answer within 200 ms"), slow.getMessage());

    Path failing = Files.createDirectories(dir.resolve("failing"));
    Path broken = script(failing, "echo 'No devices were found'; exit 6");
    IOException failed =
        assertThrows(IOException.class, () -> NvidiaSmi.query(broken, Duration.ofSeconds(2)));
    assertEquals("nvidia-smi exited with 6: No devices were found", failed.getMessage());
  }

  private static Path script(Path folder, String body) throws IOException {
    Path file = folder.resolve("nvidia-smi");
    Files.writeString(file, "#!/bin/sh\n" + body + "\n");
    assertTrue(file.toFile().setExecutable(true));
    return file;
  }
}
