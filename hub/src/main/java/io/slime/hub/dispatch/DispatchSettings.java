package io.slime.hub.dispatch;

import io.slime.hub.health.PassiveHealth;
import io.slime.hub.policy.Policy;
import io.slime.shared.agent.AgentTerms;
import java.time.Duration;
import java.util.Set;

/**
 * What a node's {@link Dispatcher} works with.
 *
 * @param maxWaiting most requests waiting at once on this node
 * @param maxWait longest any request waits, whatever its Slime-Block-Timeout
 * @param maxPriority highest {@code Slime-Priority}; priorities run from 0
 * @param agentDefaults weight and limits of agents whose token and own settings set none
 * @param ipHashFallback what ip-hash does when its agent has no idle worker; null waits for it
 * @param peers how this node works with the others; null on a node that runs alone
 */
public record DispatchSettings(
    int maxWaiting,
    Duration maxWait,
    int maxPriority,
    AgentTerms agentDefaults,
    PassiveHealth.Settings passiveHealth,
    Retries retries,
    Policy ipHashFallback,
    Peers peers) {

  /** Which failed requests are tried again on another worker, and how many at most. */
  public record Retries(Set<String> methods, double budgetPercent, int budgetMinPerSecond) {
    public static final Retries OFF = new Retries(Set.of(), 0, 0);
  }

  /** How this node works with the other nodes of its cluster. */
  public record Peers(Duration statusInterval, int inlineBodyLimit) {}

  /** A node that runs alone with the hub's defaults, but for the queue's bounds. */
  public static DispatchSettings alone(int maxWaiting, Duration maxWait) {
    return new DispatchSettings(
        maxWaiting,
        maxWait,
        9,
        new AgentTerms(1, null, 0L, 0L),
        PassiveHealth.Settings.OFF,
        Retries.OFF,
        Policy.FIFO,
        null);
  }

  public DispatchSettings withPeers(Peers peers) {
    return new DispatchSettings(
        maxWaiting,
        maxWait,
        maxPriority,
        agentDefaults,
        passiveHealth,
        retries,
        ipHashFallback,
        peers);
  }
}
