package io.slime.hub.model;

import io.slime.shared.agent.Labels;
import java.util.List;
import java.util.Map;

/**
 * Which requests an agent's workers take, from its token and labels: {@code scopes} are the {@code
 * Slime-Scope} values it accepts, {@code scopePaths} the paths (exact, or a prefix when the entry
 * ends in {@code *}), {@code labels} what {@code Slime-Select} matches. Without scopes it takes
 * only requests that name no scope; without scope paths, every path.
 */
public record Acceptance(List<String> scopes, List<String> scopePaths, Map<String, String> labels)
    implements CborSerializable {

  public static final Acceptance ANY = new Acceptance(List.of(), List.of(), Map.of());

  public Acceptance {
    scopes = scopes == null ? List.of() : List.copyOf(scopes);
    scopePaths = scopePaths == null ? List.of() : List.copyOf(scopePaths);
    labels = labels == null ? Map.of() : Map.copyOf(labels);
  }

  /** Whether a worker of agent {@code agentId} accepting this may serve {@code demand}. */
  public boolean accepts(String agentId, Demand demand) {
    if (demand.pinnedAgent() != null && !demand.pinnedAgent().equals(agentId)) {
      return false;
    }
    return acceptsScopeAndPath(demand.scope(), demand.path())
        && Labels.matches(labels, demand.select());
  }

  private boolean acceptsScopeAndPath(String scope, String path) {
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
}
