package io.slime.hub.stats;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Each agent's {@link AgentTraffic} on this node, by agent id, kept for a while after the agent
 * left so its counters survive a reconnect. Thread-safe: workers find theirs when they start.
 */
public final class AgentTrafficRegistry {
  private final ConcurrentHashMap<String, AgentTraffic> byAgent = new ConcurrentHashMap<>();

  public AgentTraffic forAgent(String agentId) {
    return byAgent.computeIfAbsent(agentId, id -> new AgentTraffic());
  }

  public AgentTraffic get(String agentId) {
    return byAgent.get(agentId);
  }

  public Map<String, AgentTraffic> all() {
    return Map.copyOf(byAgent);
  }

  /** Forgets agents not seen for {@code nanos}; {@code present} are here now and always kept. */
  public void forgetOlderThan(long nanos, long nowNanos, java.util.Set<String> present) {
    byAgent
        .entrySet()
        .removeIf(
            e -> !present.contains(e.getKey()) && nowNanos - e.getValue().lastSeenNanos() > nanos);
  }
}
