package io.slime.hub.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Picks one of the agents that have an idle worker for a request, by a {@link Policy}. One per
 * node, used by its dispatcher only (not thread-safe): it keeps the round-robin position.
 *
 * <p>Slow start: an agent back from an ejection has a ramp below 1. Weighted policies multiply its
 * weight by the ramp; the others pass it over with the chance 1 - ramp, unless it is the only one.
 */
public final class Balancer {
  private final RandomGenerator random;
  private String lastRoundRobin = "";

  public Balancer(RandomGenerator random) {
    this.random = random;
  }

  /**
   * The index in {@code choices} (not empty) of the agent to serve the request. {@link
   * Policy#IP_HASH} is decided by the dispatcher with {@link RendezvousHash}; here it falls to
   * FIFO.
   */
  public int pick(Policy policy, List<? extends Choice> choices) {
    if (choices.size() == 1) {
      return 0;
    }
    return switch (policy) {
      case WEIGHTED -> weighted(choices, false);
      case PERFORMANCE -> weighted(choices, true);
      case ROUND_ROBIN -> roundRobin(choices, rampedIn(choices));
      case LEAST_BUSY -> leastBusy(choices, rampedIn(choices));
      case FIFO, IP_HASH -> longestIdle(choices, rampedIn(choices));
    };
  }

  /** Indexes of the choices that slow start lets through this time; never none. */
  private List<Integer> rampedIn(List<? extends Choice> choices) {
    List<Integer> in = new ArrayList<>(choices.size());
    for (int i = 0; i < choices.size(); i++) {
      double ramp = choices.get(i).ramp();
      if (ramp >= 1 || random.nextDouble() < ramp) {
        in.add(i);
      }
    }
    if (in.isEmpty()) {
      for (int i = 0; i < choices.size(); i++) {
        in.add(i);
      }
    }
    return in;
  }

  private static int longestIdle(List<? extends Choice> choices, List<Integer> in) {
    int best = in.get(0);
    for (int i : in) {
      if (choices.get(i).idleSinceNanos() - choices.get(best).idleSinceNanos() < 0) {
        best = i;
      }
    }
    return best;
  }

  private static int leastBusy(List<? extends Choice> choices, List<Integer> in) {
    int best = in.get(0);
    for (int i : in) {
      Choice c = choices.get(i);
      Choice b = choices.get(best);
      if (c.busy() < b.busy()
          || (c.busy() == b.busy() && c.idleSinceNanos() - b.idleSinceNanos() < 0)) {
        best = i;
      }
    }
    return best;
  }

  /** The first agent, in id order, after the one picked last; wraps around. */
  private int roundRobin(List<? extends Choice> choices, List<Integer> in) {
    int next = -1;
    int first = -1;
    for (int i : in) {
      String id = choices.get(i).agentId();
      if (first < 0 || id.compareTo(choices.get(first).agentId()) < 0) {
        first = i;
      }
      if (id.compareTo(lastRoundRobin) > 0
          && (next < 0 || id.compareTo(choices.get(next).agentId()) < 0)) {
        next = i;
      }
    }
    int picked = next >= 0 ? next : first;
    lastRoundRobin = choices.get(picked).agentId();
    return picked;
  }

  /** At random in proportion to weight, or to {@link #performanceScore} when asked. */
  private int weighted(List<? extends Choice> choices, boolean byPerformance) {
    double[] scores = new double[choices.size()];
    double total = 0;
    for (int i = 0; i < scores.length; i++) {
      Choice c = choices.get(i);
      scores[i] = (byPerformance ? performanceScore(c) : c.weight()) * Math.min(1, c.ramp());
      total += scores[i];
    }
    if (total <= 0) {
      return random.nextInt(scores.length);
    }
    double point = random.nextDouble() * total;
    for (int i = 0; i < scores.length; i++) {
      point -= scores[i];
      if (point < 0) {
        return i;
      }
    }
    return scores.length - 1;
  }

  /**
   * Weight over cost: the agent's latency (plus 1 ms, so an unmeasured agent is tried rather than
   * favoured without end), its machine's load and how busy its workers are.
   */
  static double performanceScore(Choice c) {
    double busyShare = c.workers() == 0 ? 0 : (double) c.busy() / c.workers();
    return c.weight() / ((c.latencyMs() + 1) * (1 + c.load()) * (1 + busyShare));
  }
}
