package io.slime.hub.admin;

import io.slime.hub.dispatch.NodeView;
import io.slime.hub.replicated.AgentControl;
import io.slime.hub.stats.TrafficSnapshot;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The admin API's agents: each agent's workers from every node merged into one entry, as JSON maps.
 * An agent whose workers are on several nodes is one agent.
 */
final class AgentsJson {
  private static final List<String> UNAVAILABLE =
      List.of("draining", "weight 0", "unhealthy", "ejected", "limited");

  private AgentsJson() {}

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
  static Map<String, Object> agent(List<NodeView.Agent> parts, AgentControl control) {
    NodeView.Agent first = parts.get(0);
    List<Map<String, Object>> workers = new ArrayList<>();
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
        Map<String, Object> w = new LinkedHashMap<>();
        w.put("index", worker.index());
        w.put("node", worker.node());
        w.put("remoteAddress", worker.remoteAddress());
        w.put("state", worker.state());
        w.put("since", Instant.ofEpochMilli(worker.sinceMillis()).toString());
        workers.add(w);
      }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("id", first.agentId());
    out.put("name", first.name());
    out.put("tokenId", first.tokenId());
    out.put("version", first.version());
    out.put("labels", first.labels());
    out.put("since", Instant.ofEpochMilli(since).toString());
    out.put("state", state(parts));
    out.put("draining", first.draining());
    out.put("weight", first.weight());
    Map<String, Object> limits = new LinkedHashMap<>();
    limits.put("rpm", first.rpm());
    limits.put("bpm", first.bpm());
    out.put("limits", limits);
    Map<String, Object> usage = new LinkedHashMap<>();
    usage.put("requestsLastMinute", requests);
    usage.put("bytesLastMinute", bytes);
    out.put("usage", usage);
    out.put("inFlight", inFlight);
    out.put("workers", workers);
    out.put("ejections", ejections);
    if (ejectedUntil > 0) {
      out.put("ejectedUntil", Instant.ofEpochMilli(ejectedUntil).toString());
    }
    out.put("overrides", overrides(control));
    out.put("report", first.report());
    out.put("counters", traffic.toJson());
    return out;
  }

  /** What the operator set through the API, null where nothing is set. */
  static Map<String, Object> overrides(AgentControl control) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("weight", control.weight());
    out.put("rpm", control.rpm());
    out.put("bpm", control.bpm());
    out.put("draining", control.draining());
    return out;
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
