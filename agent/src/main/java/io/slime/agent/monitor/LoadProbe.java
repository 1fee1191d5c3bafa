package io.slime.agent.monitor;

import io.slime.shared.agent.AgentReport.Gpu;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Takes one sample of the machine's load. It blocks (file reads, a child process), so the monitor
 * runs it on the blocking dispatcher, one sample at a time. What cannot be read is null (no /proc
 * off Linux) or an empty list (no nvidia-smi).
 */
final class LoadProbe {
  private static final Duration NVIDIA_SMI_TIMEOUT = Duration.ofSeconds(2);

  /**
   * One sample; the CPU's use comes from two of them.
   *
   * @param gpuProblem why nvidia-smi, although installed, gave no answer; else null
   */
  record Sample(
      ProcFiles.CpuTimes cpu,
      Double memoryPercent,
      Double load1,
      List<Gpu> gpus,
      String gpuProblem) {}

  private final Path proc;
  private final Optional<Path> nvidiaSmi;

  LoadProbe(Path proc, Optional<Path> nvidiaSmi) {
    this.proc = proc;
    this.nvidiaSmi = nvidiaSmi;
  }

  /** This machine's /proc, and nvidia-smi when it is on the PATH. */
  static LoadProbe ofThisMachine() {
    return new LoadProbe(Path.of("/proc"), NvidiaSmi.find(System.getenv("PATH")));
  }

  Sample sample() {
    String stat = read("stat");
    String meminfo = read("meminfo");
    String loadavg = read("loadavg");
    List<Gpu> gpus = List.of();
    String gpuProblem = null;
    if (nvidiaSmi.isPresent()) {
      try {
        gpus = NvidiaSmi.query(nvidiaSmi.get(), NVIDIA_SMI_TIMEOUT);
      } catch (IOException e) {
        gpuProblem = e.getMessage();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        gpuProblem = "interrupted";
      }
    }
    return new Sample(
        stat == null ? null : ProcFiles.cpuTimes(stat),
        meminfo == null ? null : ProcFiles.memoryPercent(meminfo),
        loadavg == null ? null : ProcFiles.load1(loadavg),
        gpus,
        gpuProblem);
  }

  private String read(String file) {
    try {
      return Files.readString(proc.resolve(file), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return null;
    }
  }
}
