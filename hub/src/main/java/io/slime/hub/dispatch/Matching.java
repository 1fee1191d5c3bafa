package io.slime.hub.dispatch;

import io.slime.hub.cluster.PeerBoard;
import io.slime.hub.cluster.Waiter;
import io.slime.hub.http.ProxyError;
import io.slime.hub.limit.RetryBudget;
import io.slime.hub.stats.TrafficStats;
import io.slime.hub.worker.AgentWorker;
import java.time.Duration;
import java.util.ArrayList;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.slf4j.Logger;

/**
 * Matches requests and free workers the moment either side arrives: a request goes where {@link
 * Placement} says, or waits in {@link WaitingRequests}, or is refused; a free worker takes the
 * first waiting request it may serve, here or (through {@link Peers}) at another node. Also the
 * retry of a failed request, and the waiting requests' deadlines. Works for the {@link Dispatcher},
 * on its thread; not thread-safe.
 */
final class Matching {
  private final ActorRef<Dispatcher.Command> self;
  private final TimerScheduler<Dispatcher.Command> timers;
  private final DispatchSettings settings;
  private final Pool pool;
  private final WaitingRequests waiting;
  private final Placement placement;
  private final Peers peers;
  private final TrafficStats nodeTraffic;
  private final RetryBudget retryBudget;
  private final Logger log;

  Matching(
      ActorRef<Dispatcher.Command> self,
      TimerScheduler<Dispatcher.Command> timers,
      DispatchSettings settings,
      Pool pool,
      WaitingRequests waiting,
      Placement placement,
      Peers peers,
      TrafficStats nodeTraffic,
      Logger log) {
    this.self = self;
    this.timers = timers;
    this.settings = settings;
    this.pool = pool;
    this.waiting = waiting;
    this.placement = placement;
    this.peers = peers;
    this.nodeTraffic = nodeTraffic;
    this.log = log;
    this.retryBudget =
        new RetryBudget(
            settings.retries().budgetPercent(), settings.retries().budgetMinPerSecond());
  }

  /** A request looks for a worker; {@code first}: it waited already, so it goes first in line. */
  void dispatch(Exchange exchange, boolean first) {
    if (exchange.isGone()) {
      exchange.finish(); // frees its --concurrent slot
      return;
    }
    long now = System.nanoTime();
    Placement.Pick pick = placement.choose(exchange, null, now);
    if (pick != null) {
      counted(exchange, now);
      deliver(exchange, pick, now);
    } else if (!exchange.blocks()) {
      respond(exchange, placement.unserved(exchange.demand(), now));
    } else if (waiting.size() >= settings.maxWaiting()) {
      reject(exchange, ProxyError.QUEUE_FULL);
    } else {
      enqueue(exchange, first);
    }
  }

  /** A request leaves the queue (or skips it): its wait, and one more for the retry budget. */
  void counted(Exchange exchange, long now) {
    nodeTraffic.waited(now - exchange.createdNanos());
    retryBudget.recordRequest(now);
  }

  private void deliver(Exchange exchange, Placement.Pick pick, long now) {
    if (pick.worker() != null) {
      assign(pick.worker(), exchange, now);
    } else {
      peers.send(exchange, pick);
    }
  }

  private void assign(ActorRef<AgentWorker.Command> worker, Exchange exchange, long now) {
    LocalAgent agent = pool.agentOf(worker);
    pool.markBusy(worker);
    agent.traffic.started(now);
    worker.tell(new AgentWorker.Assign(exchange));
  }

  private void enqueue(Exchange exchange, boolean first) {
    waiting.add(exchange, first);
    exchange.whenGone(() -> self.tell(new Dispatcher.Abandon(exchange)));
    scheduleExpiry();
  }

  /** The application of a waiting request went away. */
  void abandon(Exchange exchange) {
    // Only a queued exchange registers this callback, so it is in the queue (maybe not for long).
    if (waiting.remove(exchange)) {
      exchange.finish(); // frees its --concurrent slot
      log.debug("Waiting request left: its client went away");
    }
  }

  /** A worker failed a request before any of its answer left: once more elsewhere, if it may. */
  void retry(Dispatcher.Retry retry) {
    Exchange exchange = retry.exchange();
    if (exchange.isGone()) {
      exchange.finish();
      return;
    }
    long now = System.nanoTime();
    Placement.Pick pick = null;
    if (mayRetry(exchange) && retryBudget.tryRetry(now)) {
      // Another agent if one is free, else another worker of the same agent.
      pick = placement.choose(exchange, retry.failedAgent(), now);
      if (pick == null) {
        pick = placement.choose(exchange, null, now);
      }
    }
    if (pick == null) {
      giveUp(retry);
      return;
    }
    exchange.markRetried();
    nodeTraffic.retried();
    log.debug(
        "Retrying {} {} after agent [{}] failed it",
        exchange.method(),
        exchange.target(),
        retry.failedAgent());
    deliver(exchange, pick, now);
  }

  /** Answers a failed request with its failure, not trying it again. */
  void giveUp(Dispatcher.Retry retry) {
    retry.exchange().respond(retry.error());
    retry.exchange().finish();
  }

  /** Idempotent by configuration, whole in memory, and not tried twice already. */
  private boolean mayRetry(Exchange exchange) {
    return !exchange.retried()
        && settings.retries().methods().contains(exchange.method())
        && exchange.entity() instanceof HttpEntity.Strict;
  }

  /** A worker is free: it serves the first waiting request it may, here or elsewhere, or idles. */
  void workerFree(ActorRef<AgentWorker.Command> worker) {
    long now = System.nanoTime();
    LocalAgent agent = pool.agentOf(worker);
    if (agent == null) {
      return;
    }
    if (pool.unavailable(agent, now) != null) {
      pool.markIdle(worker, now);
      return;
    }
    WorkerProfile profile = pool.profile(worker);
    Exchange local = waiting.first(e -> profile.accepts(e.demand()));
    PeerBoard.PeerWaiter remote = peers.firstWaiter(profile);
    // Across the cluster: the higher priority first, then whoever waited longer.
    if (remote != null
        && (local == null
            || remote.waiter().before(local.traits().priority(), sinceMillis(local)))) {
      peers.lend(worker, profile, remote, waiterOf(local));
    } else if (local != null) {
      waiting.remove(local);
      local.whenGone(() -> {}); // the worker takes over listening
      counted(local, now);
      assign(worker, local, now);
    } else {
      pool.markIdle(worker, now);
    }
  }

  /**
   * Lets an available agent's idle workers take what waits for them, here or elsewhere: after it
   * took nothing for a while (drained, unhealthy, ejected, at its limit), requests that arrived
   * meanwhile may be waiting.
   */
  void serveWaiting(LocalAgent agent) {
    for (ActorRef<AgentWorker.Command> worker : new ArrayList<>(agent.idle)) {
      WorkerProfile profile = pool.profile(worker);
      boolean work =
          waiting.first(e -> profile.accepts(e.demand())) != null
              || peers.firstWaiter(profile) != null;
      if (!work) {
        return;
      }
      pool.markBusy(worker);
      workerFree(worker);
    }
  }

  /** Answers the waiting requests whose wait is over. */
  void expire() {
    for (Exchange expired : waiting.takeExpired(System.nanoTime())) {
      refuse(expired, ProxyError.WAIT_TIMEOUT);
    }
    scheduleExpiry();
  }

  /** Answers every waiting request {@code error}, for a hub that stops. */
  void refuseAllWaiting(ProxyError error) {
    for (Exchange exchange : waiting.clear()) {
      refuse(exchange, error);
    }
  }

  /** Answers {@code error}, unless the application is gone already. */
  void refuse(Exchange exchange, ProxyError error) {
    if (exchange.isGone()) {
      exchange.finish(); // frees its --concurrent slot
    } else {
      reject(exchange, error);
    }
  }

  /** Wakes up at the earliest deadline of a waiting request. */
  private void scheduleExpiry() {
    if (waiting.isEmpty()) {
      timers.cancel(Dispatcher.ExpireWaiting.INSTANCE);
      return;
    }
    long dueIn = waiting.nextDeadlineNanos() - System.nanoTime();
    timers.startSingleTimer(
        Dispatcher.ExpireWaiting.INSTANCE, Duration.ofNanos(Math.max(dueIn, 0) + 1_000_000));
  }

  private void reject(Exchange exchange, ProxyError error) {
    respond(exchange, error.response());
  }

  private void respond(Exchange exchange, HttpResponse response) {
    log.debug(
        "Request {} {} rejected: {}", exchange.method(), exchange.target(), response.status());
    exchange.respond(response);
    exchange.finish();
  }

  /** Where a request that waits here stands in the cluster's serving order; null for none. */
  static Waiter waiterOf(Exchange exchange) {
    return exchange == null
        ? null
        : new Waiter(exchange.demand(), exchange.traits().priority(), sinceMillis(exchange));
  }

  /** When the request arrived, in epoch millis, as other nodes compare it. */
  static long sinceMillis(Exchange exchange) {
    return System.currentTimeMillis() - (System.nanoTime() - exchange.createdNanos()) / 1_000_000;
  }
}
