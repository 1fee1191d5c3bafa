package io.slime.agent.monitor;

/**
 * The machine's load as Linux's /proc files tell it: CPU time from {@code /proc/stat}, memory from
 * {@code /proc/meminfo}, the load average from {@code /proc/loadavg}. Only parsing lives here, so
 * tests feed it sample text; a text it cannot read gives null, never an exception.
 *
 * <p>Inside a container these files describe the host, not the container's cgroup limits.
 */
final class ProcFiles {

  /**
   * Clock ticks all CPUs spent since boot, from the {@code cpu} line of /proc/stat.
   *
   * @param idle ticks idle or waiting for I/O
   */
  record CpuTimes(long total, long idle) {}

  private ProcFiles() {}

  /**
   * The first line of /proc/stat: {@code cpu user nice system idle iowait irq softirq steal guest
   * guest_nice}. Guest time is already counted in user and nice, so it is left out of the total.
   */
  static CpuTimes cpuTimes(String stat) {
    for (String line : stat.split("\n")) {
      String[] fields = line.strip().split("\\s+");
      if (!fields[0].equals("cpu")) {
        continue;
      }
      if (fields.length < 5) {
        return null;
      }
      try {
        long total = 0;
        for (int i = 1; i < Math.min(fields.length, 9); i++) {
          total += Long.parseLong(fields[i]);
        }
        long idle = Long.parseLong(fields[4]) + (fields.length > 5 ? Long.parseLong(fields[5]) : 0);
        return new CpuTimes(total, idle);
      } catch (NumberFormatException e) {
        return null;
      }
    }
    return null;
  }

  /** The share of CPU time spent busy between two samples, 0 to 100; null without two. */
  static Double cpuPercent(CpuTimes before, CpuTimes after) {
    if (before == null || after == null) {
      return null;
    }
    long total = after.total() - before.total();
    long idle = after.idle() - before.idle();
    if (total <= 0) {
      return null;
    }
    return clamp(100.0 * (total - idle) / total);
  }

  /** Memory in use, 0 to 100: what MemAvailable says cannot be had out of MemTotal. */
  static Double memoryPercent(String meminfo) {
    Long total = null;
    Long available = null;
    for (String line : meminfo.split("\n")) {
      if (line.startsWith("MemTotal:")) {
        total = kilobytes(line);
      } else if (line.startsWith("MemAvailable:")) {
        available = kilobytes(line);
      }
    }
    if (total == null || available == null || total <= 0) {
      return null;
    }
    return clamp(100.0 * (total - available) / total);
  }

  /** The first field of /proc/loadavg: {@code 0.52 0.58 0.59 1/389 12345}. */
  static Double load1(String loadavg) {
    String[] fields = loadavg.strip().split("\\s+");
    try {
      double load = Double.parseDouble(fields[0]);
      return load >= 0 && Double.isFinite(load) ? load : null;
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** {@code MemTotal: 16316412 kB} */
  private static Long kilobytes(String line) {
    String[] fields = line.strip().split("\\s+");
    if (fields.length < 2) {
      return null;
    }
    try {
      return Long.parseLong(fields[1]);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static double clamp(double percent) {
    return Math.max(0, Math.min(100, percent));
  }
}
