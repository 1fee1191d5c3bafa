package io.slime.hub.model;

import io.slime.shared.agent.AgentTerms;
import java.util.List;

/**
 * Who a worker is and what it takes, from its agent's token and handshake.
 *
 * @param acceptance scopes and scope paths from the token, labels from token and agent
 * @param terms the agent's weight, labels and limits: the token's over the agent's own
 * @param remoteAddress where the worker's connection comes from
 * @param version the agent's slime version, or "unknown"
 */
public record WorkerProfile(
    String agentId,
    String agentName,
    int workerIndex,
    long tokenId,
    Acceptance acceptance,
    AgentTerms terms,
    String remoteAddress,
    String version)
    implements CborSerializable {

  /** A worker that no token stands behind, as tests and fixtures make them. */
  public WorkerProfile(
      String agentId,
      String agentName,
      int workerIndex,
      List<String> scopes,
      List<String> scopePaths,
      long tokenId) {
    this(
        agentId,
        agentName,
        workerIndex,
        tokenId,
        new Acceptance(scopes, scopePaths, null),
        AgentTerms.NONE,
        "",
        "unknown");
  }

  public WorkerProfile(
      String agentId,
      String agentName,
      int workerIndex,
      List<String> scopes,
      List<String> scopePaths) {
    this(agentId, agentName, workerIndex, scopes, scopePaths, 0);
  }

  /** Whether this worker may serve {@code demand}. */
  public boolean accepts(Demand demand) {
    return acceptance.accepts(agentId, demand);
  }

  /** Whether this worker may serve a request for {@code path} carrying {@code scope} (or null). */
  public boolean accepts(String scope, String path) {
    return accepts(Demand.of(scope, path));
  }

  /** Identifies the worker slot a reconnecting agent takes over. */
  public String slot() {
    return agentId + "#" + workerIndex;
  }
}
