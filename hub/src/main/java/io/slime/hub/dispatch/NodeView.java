package io.slime.hub.dispatch;

import io.slime.hub.model.CborSerializable;
import io.slime.hub.stats.TrafficSnapshot;
import io.slime.shared.agent.AgentReport;
import java.util.List;
import java.util.Map;

/**
 * One node's pool for the admin API: its agents with their workers, its requests waiting and its
 * traffic. Every node answers with its own; the admin API adds them up.
 *
 * @param traffic the requests applications sent to this node
 */
public record NodeView(String node, int waiting, TrafficSnapshot traffic, List<Agent> agents)
    implements Dispatcher.PeerMessage {

  /**
   * One agent's workers on the node.
   *
   * @param state "idle", "busy" (no idle worker), or why it takes nothing: "draining", "unhealthy",
   *     "ejected", "limited", "weight 0"
   * @param rpm most requests per minute, 0 for none; {@code bpm} likewise for bytes
   * @param traffic the requests its workers here served
   */
  public record Agent(
      String agentId,
      String name,
      long tokenId,
      String version,
      Map<String, String> labels,
      long sinceMillis,
      String state,
      double weight,
      long rpm,
      long bpm,
      boolean draining,
      int inFlight,
      AgentReport report,
      long requestsLastMinute,
      long bytesLastMinute,
      long ejectedUntilMillis,
      int ejections,
      TrafficSnapshot traffic,
      List<Worker> workers)
      implements CborSerializable {}

  /** One worker connection: its index, where it comes from, "busy" or its agent's state. */
  public record Worker(int index, String node, String remoteAddress, String state, long sinceMillis)
      implements CborSerializable {}
}
