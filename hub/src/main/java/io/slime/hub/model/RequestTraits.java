package io.slime.hub.model;

import io.slime.hub.policy.Policy;
import java.time.Duration;

/**
 * How a request wants to be served, from its {@code Slime-*} headers and the routing table.
 *
 * @param demand what the serving worker must accept
 * @param block whether it waits for a worker ({@code Slime-Block: 1}) instead of 503 at once
 * @param priority higher overtakes lower in the queue ({@code Slime-Priority}); FIFO within one
 * @param maxWait longest it may wait ({@code Slime-Block-Timeout}, capped by the hub's bound)
 * @param policy how its worker is chosen among the idle ones
 * @param clientIp the real client address, for ip-hash
 */
public record RequestTraits(
    Demand demand, boolean block, int priority, Duration maxWait, Policy policy, String clientIp) {

  /** A request with only a scope, a path and Slime-Block, as the simplest callers make them. */
  public static RequestTraits simple(String scope, String path, boolean block) {
    return new RequestTraits(
        Demand.of(scope, path), block, 0, Duration.ofDays(3650), Policy.FIFO, "");
  }
}
