package io.slime.shared.agent;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * What an agent tells the hub about itself over its own connection, now and then: whether its
 * upstream passes the health check, and the load of its machine. Fields it cannot measure are null.
 *
 * @param healthy whether the upstream passes the agent's health check (true when none is set)
 * @param healthDetail why the upstream is unhealthy, or null
 * @param cpuPercent the machine's CPU use since the last report, 0 to 100
 * @param memoryPercent memory in use, 0 to 100
 * @param load1 one-minute load average
 * @param gpus one entry per GPU that nvidia-smi lists
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AgentReport(
    boolean healthy,
    String healthDetail,
    Double cpuPercent,
    Double memoryPercent,
    Double load1,
    List<Gpu> gpus) {

  /** One GPU as nvidia-smi reports it. */
  public record Gpu(
      int index, String name, double utilPercent, long memoryUsedMiB, long memoryTotalMiB) {}

  /** What a hub assumes before an agent's first report. */
  public static final AgentReport NONE = new AgentReport(true, null, null, null, null, List.of());

  private static final ObjectMapper JSON =
      JsonMapper.builder().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

  public AgentReport {
    gpus = gpus == null ? List.of() : List.copyOf(gpus);
  }

  /**
   * The busiest of CPU and GPU use, 0 to 1: how loaded the machine behind the agent is, for
   * performance-based balancing. 0 when nothing was measured.
   */
  public double load() {
    double busiest = cpuPercent == null ? 0 : cpuPercent;
    for (Gpu gpu : gpus) {
      busiest = Math.max(busiest, gpu.utilPercent());
    }
    return Math.max(0, Math.min(busiest, 100)) / 100;
  }

  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Reads a report an agent sent.
   *
   * @throws IllegalArgumentException when it is not a report
   */
  public static AgentReport fromJson(String json) {
    try {
      AgentReport report = JSON.readValue(json, AgentReport.class);
      if (report == null) {
        throw new IllegalArgumentException("empty report");
      }
      return report;
    } catch (IOException e) {
      throw new IllegalArgumentException("not an agent report: " + e.getMessage(), e);
    }
  }
}
