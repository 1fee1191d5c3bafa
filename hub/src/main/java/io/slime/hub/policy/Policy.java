package io.slime.hub.policy;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** How the hub chooses among the agents that have an idle worker for a request. */
public enum Policy {
  /** The worker idle longest, on this node first: spreads work evenly in time. */
  FIFO("fifo"),
  /** Agent after agent, in the order of their ids. */
  ROUND_ROBIN("round-robin"),
  /** The agent with the fewest busy workers, across the cluster. */
  LEAST_BUSY("least-busy"),
  /** At random, in proportion to the agents' weights. */
  WEIGHTED("weighted"),
  /** The same client IP goes to the same agent while it has an idle worker. */
  IP_HASH("ip-hash"),
  /** At random, favouring agents with lower measured latency and load, times their weight. */
  PERFORMANCE("performance");

  private final String configName;

  Policy(String configName) {
    this.configName = configName;
  }

  /** The name configuration uses, e.g. {@code round-robin}. */
  public String configName() {
    return configName;
  }

  /**
   * The policy named {@code name} in configuration.
   *
   * @throws IllegalArgumentException listing the names there are
   */
  public static Policy parse(String name) {
    String wanted = name.strip().toLowerCase(Locale.ROOT).replace('_', '-');
    for (Policy policy : values()) {
      if (policy.configName.equals(wanted)) {
        return policy;
      }
    }
    throw new IllegalArgumentException("unknown policy '" + name + "'; one of " + names());
  }

  static String names() {
    return Arrays.stream(values()).map(Policy::configName).collect(Collectors.joining(", "));
  }
}
