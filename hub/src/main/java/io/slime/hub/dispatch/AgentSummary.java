package io.slime.hub.dispatch;

import io.slime.hub.model.Acceptance;
import io.slime.hub.model.CborSerializable;
import io.slime.hub.model.Demand;

/**
 * One agent's workers on one node, as that node tells the others every status interval: what they
 * accept, how many are idle and busy, and what the traffic policy needs to treat the agent the same
 * on every node.
 *
 * @param name its token's name
 * @param tokenId its token's id: an agent id belongs to one token across the cluster
 * @param weight the agent's weight now (control, token, agent, default)
 * @param ramp 1, or less while it comes back from an ejection (slow start)
 * @param idle idle workers free to take a request (0 while the agent is unavailable)
 * @param unavailable why the agent takes nothing now ("draining", "unhealthy", "ejected",
 *     "limited", "weight 0"), or null
 * @param requestsLastMinute requests its workers here started in the last minute
 * @param bytesLastMinute body bytes through its workers here in the last minute
 * @param ejectedUntilMillis when its ejection here ends (epoch millis), or 0
 */
public record AgentSummary(
    String agentId,
    String name,
    long tokenId,
    Acceptance acceptance,
    double weight,
    double ramp,
    int workers,
    int idle,
    int busy,
    String unavailable,
    double latencyMs,
    double load,
    long requestsLastMinute,
    long bytesLastMinute,
    long ejectedUntilMillis)
    implements CborSerializable {

  public boolean accepts(Demand demand) {
    return acceptance.accepts(agentId, demand);
  }
}
