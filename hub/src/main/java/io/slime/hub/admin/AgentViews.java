package io.slime.hub.admin;

import io.slime.hub.dispatch.NodeView;
import io.slime.hub.replicated.AgentControl;
import io.slime.hub.stats.TrafficSnapshot;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The admin API's agents: each agent's workers from every node merged into one view. An agent whose
 * workers are on several nodes is one agent.
 */
final class AgentViews {
  private static final List<String> UNAVAILABLE =
      List.of("draining", "weight 0", "unhealthy", "ejected", "limited");

  private AgentViews() {}

  /** Every agent's entries from every node, by agent id in id order. */
  static Map<String, List<NodeView.Agent>> byAgent(List<NodeView> views) {
    Map<String, List<NodeView.Agent>> out = new TreeMap<>();
    for (NodeView view : views) {
      for (NodeView.Agent agent : view.agents()) {
        out.computeIfAbsent(agent.agentId(), id -> new ArrayList<>()).add(agent);
      }
    }
    return out;
  }

  /** One agent as the admin API shows it, from its entries at each node. */
  static AdminViews.Agent agent(List<NodeView.Agent> parts, AgentControl control) {
    NodeView.Agent first = parts.get(0);
    List<AdminViews.Worker> workers = new ArrayList<>();
    int inFlight = 0;
    long requests = 0;
    long bytes = 0;
    int ejections = 0;
    long since = Long.MAX_VALUE;
    long ejectedUntil = 0;
    TrafficSnapshot traffic = TrafficSnapshot.empty();
    for (NodeView.Agent part : parts) {
      inFlight += part.inFlight();
      requests += part.requestsLastMinute();
      bytes += part.bytesLastMinute();
      ejections += part.ejections();
      since = Math.min(since, part.sinceMillis());
      ejectedUntil = Math.max(ejectedUntil, part.ejectedUntilMillis());
      traffic = traffic.plus(part.traffic());
      for (NodeView.Worker worker : part.workers()) {
        workers.add(
            new AdminViews.Worker(
                worker.index(),
                worker.node(),
                worker.remoteAddress(),
                worker.state(),
                time(worker.sinceMillis())));
      }
    }
    return new AdminViews.Agent(
        first.agentId(),
        first.name(),
        first.tokenId(),
        first.version(),
        first.labels(),
        time(since),
        state(parts),
        first.draining(),
        first.weight(),
        new AdminViews.Limits(first.rpm(), first.bpm()),
        new AdminViews.Usage(requests, bytes),
        inFlight,
        workers,
        ejections,
        ejectedUntil > 0 ? time(ejectedUntil) : null,
        AdminViews.Overrides.of(control),
        first.report(),
        AdminViews.Traffic.of(traffic));
  }

  private static String time(long epochMillis) {
    return Instant.ofEpochMilli(epochMillis).toString();
  }

  /** The reason it takes nothing, if any node has one; else idle when any worker is. */
  private static String state(List<NodeView.Agent> parts) {
    for (String reason : UNAVAILABLE) {
      for (NodeView.Agent part : parts) {
        if (part.state().equals(reason)) {
          return reason;
        }
      }
    }
    for (NodeView.Agent part : parts) {
      if (part.state().equals("idle")) {
        return "idle";
      }
    }
    return "busy";
  }
}
