package io.slime.hub.http;

import io.slime.hub.model.ProxyError;
import io.slime.hub.model.ResponseSlot;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.Scheduler;
import scala.concurrent.ExecutionContext;

/**
 * The {@code --concurrent N} limit: at most N application requests active at once; more wait in
 * arrival order for a slot, within the same bounds as requests waiting for a worker. A request
 * holds its slot until its {@link ResponseSlot} is finished, streamed body included.
 */
final class AdmissionGate {
  private int limit;
  private final int maxWaiting;
  private final Duration maxWait;
  private final Scheduler scheduler;
  private final ExecutionContext executor;
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
  private int active;

  private record Waiter(
      ResponseSlot request, CompletableFuture<ProxyError> admitted, Cancellable timeout) {}

  AdmissionGate(
      int limit, int maxWaiting, Duration maxWait, Scheduler scheduler, ExecutionContext executor) {
    this.limit = limit;
    this.maxWaiting = maxWaiting;
    this.maxWait = maxWait;
    this.scheduler = scheduler;
    this.executor = executor;
  }

  /**
   * Completes with null once the request holds a slot (released when it finishes), or with the
   * error to answer when it could not get one.
   */
  CompletionStage<ProxyError> admit(ResponseSlot request) {
    CompletableFuture<ProxyError> admitted = new CompletableFuture<>();
    synchronized (this) {
      if (active < limit) {
        active++;
      } else if (waiters.size() >= maxWaiting) {
        return CompletableFuture.completedFuture(ProxyError.QUEUE_FULL);
      } else {
        Cancellable timeout =
            scheduler.scheduleOnce(
                scala.concurrent.duration.Duration.fromNanos(maxWait.toNanos()),
                () -> leave(request, ProxyError.WAIT_TIMEOUT),
                executor);
        waiters.add(new Waiter(request, admitted, timeout));
        request.waitWith(() -> leave(request, null));
        return admitted;
      }
    }
    request.finished().whenComplete((ok, failure) -> release());
    admitted.complete(null);
    return admitted;
  }

  /**
   * Changes the number of slots (this node's share of a cluster-wide limit). Requests waiting are
   * let in at once if the new limit has room; a lower limit takes effect as requests finish.
   */
  void resize(int newLimit) {
    List<Waiter> admitted = new ArrayList<>();
    synchronized (this) {
      limit = newLimit;
      while (active < limit && !waiters.isEmpty()) {
        active++;
        admitted.add(waiters.poll());
      }
    }
    for (Waiter next : admitted) {
      next.timeout().cancel();
      next.request().finished().whenComplete((ok, failure) -> release());
      next.admitted().complete(null);
    }
  }

  private void leave(ResponseSlot request, ProxyError error) {
    Waiter left = null;
    synchronized (this) {
      for (Waiter w : waiters) {
        if (w.request() == request) {
          left = w;
          break;
        }
      }
      if (left != null) {
        waiters.remove(left);
      }
    }
    if (left != null) {
      left.timeout().cancel();
      left.admitted().complete(error != null ? error : ProxyError.WAIT_TIMEOUT);
    }
  }

  private void release() {
    Waiter next;
    synchronized (this) {
      next = active <= limit ? waiters.poll() : null;
      if (next == null) {
        active--;
        return;
      }
    }
    next.timeout().cancel();
    next.request().finished().whenComplete((ok, failure) -> release());
    next.admitted().complete(null);
  }
}
