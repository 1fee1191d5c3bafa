package io.slime.hub.replicated;

import io.slime.hub.model.CborSerializable;

/**
 * What an operator set for one agent through the admin API, on every node: a weight and limits that
 * win over the token's and the agent's (null: not set), and whether it is drained.
 */
public record AgentControl(Integer weight, Long rpm, Long bpm, boolean draining)
    implements CborSerializable {

  public static final AgentControl NONE = new AgentControl(null, null, null, false);

  public boolean isNone() {
    return equals(NONE);
  }
}
