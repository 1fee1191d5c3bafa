package io.slime.hub.model;

import java.util.Map;

/**
 * What a request needs of the worker that serves it: its {@code Slime-Scope} (or null), its path,
 * the labels it selects with {@code Slime-Select}, and, when ip-hash pins it, the one agent that
 * may serve it (else null).
 */
public record Demand(String scope, String path, Map<String, String> select, String pinnedAgent)
    implements CborSerializable {

  public Demand {
    select = select == null ? Map.of() : Map.copyOf(select);
  }

  /** A request that asks for nothing but its scope and path. */
  public static Demand of(String scope, String path) {
    return new Demand(scope, path, Map.of(), null);
  }

  public Demand pinnedTo(String agentId) {
    return new Demand(scope, path, select, agentId);
  }
}
