package io.slime.hub.dispatch;

import io.slime.shared.protocol.Header;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.RequestEntity;

/**
 * One application request's life in the hub: what to forward, where the answer goes, and whether
 * the application is still there. Created by the front door, queued by the {@link Dispatcher},
 * carried by one worker. Thread-safe: the front door, the dispatcher and a worker all touch it.
 */
public final class Exchange {
  private final String method;
  private final String target;
  private final String path;
  private final List<Header> headers;
  private final RequestEntity entity;
  private final RequestTraits traits;
  private final long createdNanos = System.nanoTime();
  private final CompletableFuture<HttpResponse> response = new CompletableFuture<>();
  private final CompletableFuture<Void> finished = new CompletableFuture<>();

  private boolean gone;
  private Runnable onGone;
  private volatile boolean retried;
  private String failureChargedTo;
  private volatile Demand demand;

  public Exchange(
      String method,
      String target,
      String path,
      List<Header> headers,
      RequestEntity entity,
      RequestTraits traits) {
    this.method = method;
    this.target = target;
    this.path = path;
    this.headers = headers;
    this.entity = entity;
    this.traits = traits;
    this.demand = traits.demand();
  }

  /** A request that asks for nothing but a scope and Slime-Block. */
  public Exchange(
      String method,
      String target,
      String path,
      List<Header> headers,
      RequestEntity entity,
      String scope,
      boolean block) {
    this(method, target, path, headers, entity, RequestTraits.simple(scope, path, block));
  }

  public String method() {
    return method;
  }

  /** Path and query as the application sent them. */
  public String target() {
    return target;
  }

  public String path() {
    return path;
  }

  /** Headers to forward: hop-by-hop and Slime-* removed, X-Forwarded-* set. */
  public List<Header> headers() {
    return headers;
  }

  public RequestEntity entity() {
    return entity;
  }

  /** The Slime-Scope the application asked for, or null. */
  public String scope() {
    return traits.demand().scope();
  }

  /** Whether the application sent Slime-Block: 1 and so waits for a worker. */
  public boolean blocks() {
    return traits.block();
  }

  public RequestTraits traits() {
    return traits;
  }

  /** What the serving worker must accept: the request's demand, pinned to an agent by ip-hash. */
  public Demand demand() {
    return demand;
  }

  /** Only {@code agentId}'s workers may serve it from now on (ip-hash waiting for its agent). */
  public void pin(String agentId) {
    demand = demand.pinnedTo(agentId);
  }

  /** When its wait ends (System.nanoTime). */
  public long deadlineNanos() {
    return createdNanos + traits.maxWait().toNanos();
  }

  /** Whether a failed attempt was already retried: a request is retried at most once. */
  public boolean retried() {
    return retried;
  }

  public void markRetried() {
    retried = true;
  }

  /**
   * Whether a failure of this exchange on {@code agentId} counts against that agent's health: only
   * the first does, so a request retried on the agent that failed it counts once there, and no
   * application can eject an agent in fewer requests than the failure count says.
   */
  public synchronized boolean chargeFailure(String agentId) {
    if (agentId.equals(failureChargedTo)) {
      return false;
    }
    failureChargedTo = agentId;
    return true;
  }

  public long createdNanos() {
    return createdNanos;
  }

  /** Answers the application; later answers are ignored. */
  public void respond(HttpResponse answer) {
    response.complete(answer);
  }

  public CompletionStage<HttpResponse> response() {
    return response;
  }

  public boolean isAnswered() {
    return response.isDone();
  }

  /** Marks the exchange over for the hub: answered and, if streamed, its body ended. */
  public void finish() {
    finished.complete(null);
  }

  public CompletionStage<Void> finished() {
    return finished;
  }

  /** The application went away: whoever holds the exchange now hears of it once. */
  public void markGone() {
    Runnable notify;
    synchronized (this) {
      if (gone) {
        return;
      }
      gone = true;
      notify = onGone;
    }
    if (notify != null) {
      notify.run();
    }
  }

  public synchronized boolean isGone() {
    return gone;
  }

  /** Sets who hears of the application going away; runs it at once if it already has. */
  public void whenGone(Runnable listener) {
    boolean already;
    synchronized (this) {
      onGone = listener;
      already = gone;
    }
    if (already) {
      listener.run();
    }
  }
}
