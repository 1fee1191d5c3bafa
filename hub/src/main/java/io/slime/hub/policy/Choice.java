package io.slime.hub.policy;

/** One agent that could take a request now, as the balancing policies see it. */
public interface Choice {
  String agentId();

  /** Weight, already scaled down while the agent is in slow start; above 0. */
  double weight();

  /** Its workers busy now, across the cluster. */
  int busy();

  /** Its workers, across the cluster. */
  int workers();

  /** Recent latency to the response head, in milliseconds; 0 when not measured yet. */
  double latencyMs();

  /** Load of the agent's machine, 0 to 1, from its last report. */
  double load();

  /** When its longest-idle worker turned idle (System.nanoTime); Long.MAX_VALUE when unknown. */
  long idleSinceNanos();

  /** 1 normally; below 1 while the agent comes back after an ejection (slow start). */
  double ramp();
}
