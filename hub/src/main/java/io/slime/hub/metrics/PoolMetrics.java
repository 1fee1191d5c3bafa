package io.slime.hub.metrics;

import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.slime.hub.dispatch.NodeView;
import io.slime.hub.stats.Histogram;
import io.slime.hub.stats.HistogramSnapshot;
import io.slime.hub.stats.TrafficSnapshot;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The pool as Prometheus metrics: one node's {@link NodeView} (its traffic, its agents and their
 * workers, its waiting requests) and the cluster's members, turned into the client library's
 * snapshots. A pure function of its inputs; the endpoint gathers them and writes the text.
 */
final class PoolMetrics {
  /** Every worker state, so that a state with no worker is exported as 0 rather than missing. */
  static final List<String> WORKER_STATES =
      List.of("idle", "busy", "draining", "unhealthy", "ejected", "limited", "weight_zero");

  private static final String[] STATUS_CLASSES = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};

  /** The {@code Slime-Error} codes of the rate limits, by the limit's name. */
  private static final Map<String, String> RATE_LIMITS =
      Map.of("client", "client-rate-limited", "agent", "agent-rate-limited");

  private PoolMetrics() {}

  static List<MetricSnapshot> of(NodeView view, Map<String, Integer> membersByStatus) {
    List<MetricSnapshot> out = new ArrayList<>();
    TrafficSnapshot traffic = view.traffic();
    out.add(
        byStatusClass("slime_requests", "Requests answered by this node", traffic, Labels.EMPTY));
    CounterSnapshot.Builder errors =
        CounterSnapshot.builder()
            .name("slime_errors")
            .help("Answers the hub made itself, by their Slime-Error code");
    traffic.errors().forEach((code, n) -> errors.dataPoint(counter(n, Labels.of("code", code))));
    out.add(errors.build());
    CounterSnapshot.Builder limited =
        CounterSnapshot.builder()
            .name("slime_rate_limited")
            .help("Requests refused by a rate limit (429), by the limit");
    RATE_LIMITS.forEach(
        (limit, code) ->
            limited.dataPoint(
                counter(traffic.errors().getOrDefault(code, 0L), Labels.of("limit", limit))));
    out.add(limited.build());
    out.add(
        counter(
            "slime_request_body_bytes", "Request body bytes read from clients", traffic.bytesIn()));
    out.add(
        counter(
            "slime_response_body_bytes",
            "Response body bytes sent to clients",
            traffic.bytesOut()));
    out.add(counter("slime_retries", "Requests sent again to another worker", traffic.retries()));
    out.add(gauge("slime_requests_waiting", "Requests waiting for a worker", view.waiting()));
    out.add(
        histogram("slime_wait_seconds", "Time requests waited for a worker", traffic.waitTime()));
    out.add(
        histogram(
            "slime_response_head_seconds",
            "Time from a request's arrival to its response head",
            traffic.latency()));
    out.add(
        histogram(
            "slime_request_duration_seconds",
            "Time from a request's arrival to the end of its response",
            traffic.duration()));
    out.add(workers(view));
    out.add(
        gauge("slime_agents", "Agents with workers connected to this node", view.agents().size()));
    out.addAll(agents(view.agents()));
    GaugeSnapshot.Builder members =
        GaugeSnapshot.builder()
            .name("slime_cluster_members")
            .help("Members of the hub cluster as this node sees them, by status");
    membersByStatus.forEach(
        (status, n) -> members.dataPoint(gauge(n, Labels.of("status", status))));
    out.add(members.build());
    return out;
  }

  private static GaugeSnapshot workers(NodeView view) {
    Map<String, Integer> byState = new LinkedHashMap<>();
    WORKER_STATES.forEach(state -> byState.put(state, 0));
    for (NodeView.Agent agent : view.agents()) {
      for (NodeView.Worker worker : agent.workers()) {
        byState.merge(stateLabel(worker.state()), 1, Integer::sum);
      }
    }
    GaugeSnapshot.Builder workers =
        GaugeSnapshot.builder()
            .name("slime_workers")
            .help("Worker connections to this node, by state");
    byState.forEach((state, n) -> workers.dataPoint(gauge(n, Labels.of("state", state))));
    return workers.build();
  }

  /** The admin API's state ("weight 0") as a label value without a space. */
  static String stateLabel(String state) {
    return state.replace(' ', '_').replace("weight_0", "weight_zero");
  }

  private static List<MetricSnapshot> agents(List<NodeView.Agent> agents) {
    List<MetricSnapshot> out = new ArrayList<>();
    CounterSnapshot.Builder requests =
        CounterSnapshot.builder()
            .name("slime_agent_requests")
            .help("Requests an agent's workers on this node answered, by status class");
    CounterSnapshot.Builder bytesIn =
        CounterSnapshot.builder()
            .name("slime_agent_request_body_bytes")
            .help("Request body bytes sent to an agent's workers on this node");
    CounterSnapshot.Builder bytesOut =
        CounterSnapshot.builder()
            .name("slime_agent_response_body_bytes")
            .help("Response body bytes an agent's workers on this node sent back");
    CounterSnapshot.Builder ejections =
        CounterSnapshot.builder()
            .name("slime_agent_ejections")
            .help("Times passive health ejected the agent on this node");
    for (NodeView.Agent agent : agents) {
      Labels labels = agentLabels(agent);
      for (int i = 0; i < STATUS_CLASSES.length && i < agent.traffic().byClass().length; i++) {
        requests.dataPoint(
            counter(agent.traffic().byClass()[i], labels.add("status_class", STATUS_CLASSES[i])));
      }
      bytesIn.dataPoint(counter(agent.traffic().bytesIn(), labels));
      bytesOut.dataPoint(counter(agent.traffic().bytesOut(), labels));
      ejections.dataPoint(counter(agent.ejections(), labels));
    }
    out.add(requests.build());
    out.add(bytesIn.build());
    out.add(bytesOut.build());
    out.add(ejections.build());
    out.add(
        agentGauge(agents, "slime_agent_info", "1 for each agent, with its version", a -> 1, true));
    out.add(
        agentGauge(
            agents,
            "slime_agent_workers",
            "An agent's workers on this node",
            a -> a.workers().size(),
            false));
    out.add(
        agentGauge(
            agents,
            "slime_agent_in_flight",
            "Requests an agent's workers on this node carry now",
            NodeView.Agent::inFlight,
            false));
    out.add(
        agentGauge(
            agents,
            "slime_agent_weight",
            "An agent's weight for the balancing policies",
            NodeView.Agent::weight,
            false));
    out.add(
        agentGauge(
            agents,
            "slime_agent_requests_last_minute",
            "Requests given to the agent on this node in the last minute, counted against its rpm",
            NodeView.Agent::requestsLastMinute,
            false));
    out.add(
        agentGauge(
            agents,
            "slime_agent_rpm_limit",
            "The agent's requests-per-minute limit; 0 for none",
            NodeView.Agent::rpm,
            false));
    out.add(
        agentGauge(
            agents,
            "slime_agent_bytes_last_minute",
            "Body bytes through the agent on this node in the last minute, counted against its bpm",
            NodeView.Agent::bytesLastMinute,
            false));
    out.add(
        agentGauge(
            agents,
            "slime_agent_bpm_limit",
            "The agent's bytes-per-minute limit; 0 for none",
            NodeView.Agent::bpm,
            false));
    return out;
  }

  private static GaugeSnapshot agentGauge(
      List<NodeView.Agent> agents,
      String name,
      String help,
      ToDoubleFunction<NodeView.Agent> value,
      boolean withVersion) {
    GaugeSnapshot.Builder gauge = GaugeSnapshot.builder().name(name).help(help);
    for (NodeView.Agent agent : agents) {
      Labels labels = agentLabels(agent);
      if (withVersion) {
        labels = labels.add("version", agent.version() == null ? "" : agent.version());
      }
      gauge.dataPoint(gauge(value.applyAsDouble(agent), labels));
    }
    return gauge.build();
  }

  private static Labels agentLabels(NodeView.Agent agent) {
    return Labels.of(
        "agent_id", agent.agentId(), "agent", agent.name() == null ? "" : agent.name());
  }

  private static CounterSnapshot byStatusClass(
      String name, String help, TrafficSnapshot traffic, Labels labels) {
    CounterSnapshot.Builder counter =
        CounterSnapshot.builder().name(name).help(help + ", by status class (none: aborted)");
    for (int i = 0; i < STATUS_CLASSES.length && i < traffic.byClass().length; i++) {
      counter.dataPoint(
          counter(traffic.byClass()[i], labels.add("status_class", STATUS_CLASSES[i])));
    }
    return counter.build();
  }

  private static io.prometheus.metrics.model.snapshots.HistogramSnapshot histogram(
      String name, String help, HistogramSnapshot recorded) {
    double[] bounds = new double[Histogram.EXPORT_BOUNDS.length + 1];
    System.arraycopy(Histogram.EXPORT_BOUNDS, 0, bounds, 0, Histogram.EXPORT_BOUNDS.length);
    bounds[bounds.length - 1] = Double.POSITIVE_INFINITY;
    long[] counts = new long[bounds.length];
    long[] exported = recorded.exported();
    for (int i = 0; exported != null && i < exported.length && i < counts.length; i++) {
      counts[i] = exported[i];
    }
    return io.prometheus.metrics.model.snapshots.HistogramSnapshot.builder()
        .name(name)
        .help(help)
        .dataPoint(
            HistogramDataPointSnapshot.builder()
                .classicHistogramBuckets(ClassicHistogramBuckets.of(bounds, counts))
                .sum(recorded.sumNanos() / 1e9)
                .build())
        .build();
  }

  private static CounterSnapshot counter(String name, String help, long value) {
    return CounterSnapshot.builder()
        .name(name)
        .help(help)
        .dataPoint(counter(value, Labels.EMPTY))
        .build();
  }

  private static CounterDataPointSnapshot counter(double value, Labels labels) {
    return CounterDataPointSnapshot.builder().value(value).labels(labels).build();
  }

  private static GaugeSnapshot gauge(String name, String help, double value) {
    return GaugeSnapshot.builder()
        .name(name)
        .help(help)
        .dataPoint(gauge(value, Labels.EMPTY))
        .build();
  }

  private static GaugeDataPointSnapshot gauge(double value, Labels labels) {
    return GaugeDataPointSnapshot.builder().value(value).labels(labels).build();
  }
}
