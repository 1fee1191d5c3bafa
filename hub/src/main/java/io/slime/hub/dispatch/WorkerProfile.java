package io.slime.hub.dispatch;

import io.slime.hub.CborSerializable;
import java.util.List;

/**
 * Who a worker is and which requests it takes, from its agent's token: {@code scopes} are the
 * {@code Slime-Scope} values it accepts, {@code scopePaths} the paths (exact, or a prefix when the
 * entry ends in {@code *}). A worker without scopes takes only requests that name no scope; one
 * without scope paths takes every path.
 */
public record WorkerProfile(
    String agentId,
    String agentName,
    int workerIndex,
    List<String> scopes,
    List<String> scopePaths,
    long tokenId)
    implements CborSerializable {

  /** A profile that no token stands behind: what a worker accepts, without who it is. */
  public WorkerProfile(
      String agentId, String agentName, int workerIndex, List<String> scopes, List<String> scopePaths) {
    this(agentId, agentName, workerIndex, scopes, scopePaths, 0);
  }

  /** Whether this worker may serve a request for {@code path} carrying {@code scope} (or null). */
  public boolean accepts(String scope, String path) {
    if (scope != null && !scopes.contains(scope)) {
      return false;
    }
    if (scopePaths.isEmpty()) {
      return true;
    }
    for (String allowed : scopePaths) {
      if (allowed.endsWith("*")
          ? path.startsWith(allowed.substring(0, allowed.length() - 1))
          : path.equals(allowed)) {
        return true;
      }
    }
    return false;
  }

  /** Identifies the worker slot a reconnecting agent takes over. */
  public String slot() {
    return agentId + "#" + workerIndex;
  }
}
