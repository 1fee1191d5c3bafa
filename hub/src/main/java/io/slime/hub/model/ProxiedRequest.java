package io.slime.hub.model;

import io.slime.shared.protocol.Header;
import java.util.List;
import org.apache.pekko.http.javadsl.model.RequestEntity;

/**
 * An application request as the hub forwards it, and what the hub learned on its way: immutable, so
 * whoever holds it can read it on any thread; a change (a pin, a retry, a failure charged) makes a
 * new one. Its answer goes to the {@link ResponseSlot} that travels with it in a {@link Job}.
 *
 * @param target path and query as the application sent them
 * @param headers headers to forward: hop-by-hop and Slime-* removed, X-Forwarded-* set
 * @param demand what the serving worker must accept: the traits' demand, pinned to an agent by
 *     ip-hash
 * @param createdNanos when the hub received it (System.nanoTime)
 * @param retried whether a failed attempt was already retried: a request is retried at most once
 * @param failureChargedTo the agent whose health a failure of it counted against, or null
 */
public record ProxiedRequest(
    String method,
    String target,
    String path,
    List<Header> headers,
    RequestEntity entity,
    RequestTraits traits,
    Demand demand,
    long createdNanos,
    boolean retried,
    String failureChargedTo) {

  /** A request just received, with its traits' demand. */
  public static ProxiedRequest of(
      String method,
      String target,
      String path,
      List<Header> headers,
      RequestEntity entity,
      RequestTraits traits) {
    return new ProxiedRequest(
        method,
        target,
        path,
        headers,
        entity,
        traits,
        traits.demand(),
        System.nanoTime(),
        false,
        null);
  }

  /** A request that asks for nothing but a scope and Slime-Block. */
  public static ProxiedRequest of(
      String method,
      String target,
      String path,
      List<Header> headers,
      RequestEntity entity,
      String scope,
      boolean block) {
    return of(method, target, path, headers, entity, RequestTraits.simple(scope, path, block));
  }

  /** The Slime-Scope the application asked for, or null. */
  public String scope() {
    return traits.demand().scope();
  }

  /** Whether the application sent Slime-Block: 1 and so waits for a worker. */
  public boolean blocks() {
    return traits.block();
  }

  /** When its wait ends (System.nanoTime). */
  public long deadlineNanos() {
    return createdNanos + traits.maxWait().toNanos();
  }

  /** Only {@code agentId}'s workers may serve it from now on (ip-hash waiting for its agent). */
  public ProxiedRequest pinnedTo(String agentId) {
    return new ProxiedRequest(
        method,
        target,
        path,
        headers,
        entity,
        traits,
        demand.pinnedTo(agentId),
        createdNanos,
        retried,
        failureChargedTo);
  }

  /** The same request, on its second (and last) attempt. */
  public ProxiedRequest asRetry() {
    return new ProxiedRequest(
        method,
        target,
        path,
        headers,
        entity,
        traits,
        demand,
        createdNanos,
        true,
        failureChargedTo);
  }

  /**
   * Whether a failure of it on {@code agentId} counts against that agent's health: only the first
   * does, so a request retried on the agent that failed it counts once there, and no application
   * can eject an agent in fewer requests than the failure count says.
   */
  public boolean chargesFailureTo(String agentId) {
    return !agentId.equals(failureChargedTo);
  }

  /** The same request, its failure charged to {@code agentId}. */
  public ProxiedRequest chargedTo(String agentId) {
    return new ProxiedRequest(
        method, target, path, headers, entity, traits, demand, createdNanos, retried, agentId);
  }
}
