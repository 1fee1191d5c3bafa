package io.slime.hub.dispatch;

import io.slime.hub.model.ProxyError;
import io.slime.shared.agent.Labels;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Why no worker could take a request that does not wait, in words that name the cause: the agents
 * that would accept it and why each takes nothing now, or the labels nobody has.
 */
final class Unserved {
  private static final int NAMED = 5;
  private static final String WAIT = "; send Slime-Block: 1 to wait";

  private final Map<String, String> unavailable = new LinkedHashMap<>();

  /** An agent that accepts the request but takes nothing now, and why ("draining", ...). */
  void unavailable(String agentName, String reason) {
    unavailable.putIfAbsent(agentName, reason);
  }

  /** The body of a 503 {@code no-available-worker}. */
  String noneAvailable() {
    List<String> named = new ArrayList<>();
    for (Map.Entry<String, String> agent : unavailable.entrySet()) {
      if (named.size() == NAMED) {
        named.add("and " + (unavailable.size() - NAMED) + " more");
        break;
      }
      named.add(agent.getKey() + ": " + agent.getValue());
    }
    return named.isEmpty()
        ? ProxyError.NO_AVAILABLE_WORKER.reason()
        : "every agent that accepts this request takes nothing now ("
            + String.join(", ", named)
            + ")"
            + WAIT;
  }

  /**
   * The body of a 503 {@code no-matching-worker} when only the selected labels kept workers out.
   */
  static String noLabels(Map<String, String> select) {
    return "no connected agent has the labels Slime-Select asks for ("
        + Labels.format(select)
        + ")"
        + WAIT;
  }
}
