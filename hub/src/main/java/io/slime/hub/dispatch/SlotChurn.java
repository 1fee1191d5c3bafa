package io.slime.hub.dispatch;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * Notices an agent id whose workers keep replacing each other. A restarted agent replaces its old
 * connections once; two agent processes that share an id (and token) replace each other's workers
 * forever, each reconnecting as soon as it was replaced, and neither says why.
 */
final class SlotChurn {
  static final long WINDOW_NANOS = 60_000_000_000L;

  /** More replacements of one agent's workers than this within the window is churn. */
  static final int LIMIT = 3;

  private final Map<String, Deque<Long>> replacements = new HashMap<>();
  private final Map<String, Long> warnedAt = new HashMap<>();

  /**
   * Records one replaced connection of {@code agentId}'s workers; returns how many there were in
   * the last minute when that is churn worth a warning (at most one per agent per minute), else 0.
   */
  int replaced(String agentId, int workers, long nowNanos) {
    Deque<Long> times = replacements.computeIfAbsent(agentId, id -> new ArrayDeque<>());
    times.addLast(nowNanos);
    while (nowNanos - times.peekFirst() > WINDOW_NANOS) {
      times.removeFirst();
    }
    // A restart replaces each worker once.
    if (times.size() <= LIMIT + workers) {
      return 0;
    }
    Long warned = warnedAt.get(agentId);
    if (warned != null && nowNanos - warned < WINDOW_NANOS) {
      return 0;
    }
    warnedAt.put(agentId, nowNanos);
    return times.size();
  }

  /** The agent left: nothing of it is kept. */
  void forget(String agentId) {
    replacements.remove(agentId);
    warnedAt.remove(agentId);
  }
}
