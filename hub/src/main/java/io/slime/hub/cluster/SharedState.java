package io.slime.hub.cluster;

import org.apache.pekko.actor.typed.ActorRef;

/**
 * The state every node of a cluster shares, and the front door reads or changes: revoked tokens
 * and drained agents.
 */
public record SharedState(
    RevokedTokens revoked,
    ActorRef<Revocations.Command> revocations,
    ActorRef<AgentDrains.Command> drains) {}
