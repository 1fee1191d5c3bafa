package io.slime.hub.admin;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import io.slime.hub.replicated.AgentControl;
import io.slime.hub.stats.HistogramSnapshot;
import io.slime.hub.stats.TrafficSnapshot;
import io.slime.shared.agent.AgentReport;
import java.util.List;
import java.util.Map;

/**
 * What the admin API answers, one record per JSON object, serialized by Jackson in the order of
 * their components. Times are ISO-8601 strings, as {@link java.time.Instant#toString()} writes
 * them; a list or field marked {@code NON_EMPTY} or {@code NON_NULL} is left out rather than empty.
 */
final class AdminViews {
  private AdminViews() {}

  /** {@code GET /_slime/status}. */
  record Status(int nodes, int agents, int workers, int idle, int busy, int waiting) {}

  /** {@code GET /agents}. */
  record Agents(
      List<Agent> agents, @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> missingNodes) {}

  /** One agent, its workers on every node merged. */
  record Agent(
      String id,
      String name,
      long tokenId,
      String version,
      Map<String, String> labels,
      String since,
      String state,
      boolean draining,
      double weight,
      Limits limits,
      Usage usage,
      int inFlight,
      List<Worker> workers,
      int ejections,
      @JsonInclude(JsonInclude.Include.NON_NULL) String ejectedUntil,
      Overrides overrides,
      AgentReport report,
      Traffic counters) {}

  record Limits(long rpm, long bpm) {}

  record Usage(long requestsLastMinute, long bytesLastMinute) {}

  record Worker(int index, String node, String remoteAddress, String state, String since) {}

  /** What the operator set through the API; null where nothing is set. */
  record Overrides(Integer weight, Long rpm, Long bpm, boolean draining) {
    static Overrides of(AgentControl control) {
      return new Overrides(control.weight(), control.rpm(), control.bpm(), control.draining());
    }
  }

  /** Requests by status class, errors by kind, body bytes, retries and timings. */
  record Traffic(
      long requests,
      Statuses statuses,
      Map<String, Long> errors,
      long bytesIn,
      long bytesOut,
      long retries,
      Timing waitTime,
      Timing latency,
      Timing duration) {

    static Traffic of(TrafficSnapshot traffic) {
      long[] byClass = traffic.byClass();
      return new Traffic(
          traffic.requests(),
          new Statuses(byClass[0], byClass[1], byClass[2], byClass[3], byClass[4], byClass[5]),
          traffic.errors(),
          traffic.bytesIn(),
          traffic.bytesOut(),
          traffic.retries(),
          Timing.of(traffic.waitTime()),
          Timing.of(traffic.latency()),
          Timing.of(traffic.duration()));
    }
  }

  /** Answers by status class; {@code none} were aborted before any status. */
  record Statuses(
      long none,
      @JsonProperty("1xx") long informational,
      @JsonProperty("2xx") long success,
      @JsonProperty("3xx") long redirection,
      @JsonProperty("4xx") long clientError,
      @JsonProperty("5xx") long serverError) {}

  /** A histogram's count and percentiles in milliseconds, to the microsecond. */
  record Timing(long count, double p50Ms, double p90Ms, double p99Ms) {
    static Timing of(HistogramSnapshot histogram) {
      return new Timing(
          histogram.count(),
          micros(histogram.quantileMillis(0.5)),
          micros(histogram.quantileMillis(0.9)),
          micros(histogram.quantileMillis(0.99)));
    }

    private static double micros(double millis) {
      return Math.round(millis * 1000) / 1000.0;
    }
  }

  /** {@code GET /stats}: the cluster's totals, then each node's. */
  record Stats(
      int agents,
      int waiting,
      @JsonUnwrapped Traffic traffic,
      List<NodeStats> nodes,
      @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> missingNodes) {}

  record NodeStats(String node, int waiting, long requests) {}

  /** {@code GET /stats/agents/{id}}. */
  record AgentStats(
      String agent, String state, int inFlight, Usage usage, @JsonUnwrapped Traffic counters) {}

  /** {@code GET /cluster}. */
  record Cluster(List<Member> members) {}

  record Member(
      String address, String status, boolean self, int workers, int idle, int busy, int waiting) {}

  /** {@code PUT /agents/{id}}: the agent's overrides as they are now. */
  record AgentChanged(String agent, @JsonUnwrapped Overrides overrides) {}

  record Drain(String agent, boolean draining) {}

  record Disconnected(String agent, int disconnected) {}

  record Revoked(long revoked, @JsonInclude(JsonInclude.Include.NON_NULL) String name) {}

  /** Every error the admin API answers: its {@code Slime-Error} code, and why. */
  record Error(String error, String detail) {}
}
