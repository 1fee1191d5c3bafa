package io.slime.hub.replicated;

import org.apache.pekko.actor.typed.ActorRef;

/**
 * The state every node of a cluster shares, and the front door reads or changes: revoked tokens and
 * the operators' settings per agent (drain, weight, limits).
 */
public record SharedState(
    RevokedTokens revoked,
    ActorRef<Revocations.Command> revocations,
    ActorRef<AgentControls.Command> controls) {}
