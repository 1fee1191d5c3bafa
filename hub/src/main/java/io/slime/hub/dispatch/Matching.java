package io.slime.hub.dispatch;

import io.slime.hub.limit.RetryBudget;
import io.slime.hub.model.Job;
import io.slime.hub.model.ProxiedRequest;
import io.slime.hub.model.ProxyError;
import io.slime.hub.model.WorkerProfile;
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
  void dispatch(Job job, boolean first) {
    if (job.slot().isGone()) {
      job.slot().finish(); // frees its --concurrent slot
      return;
    }
    long now = System.nanoTime();
    Placement.Pick pick = placement.choose(job.request(), null, now);
    job = pinned(job, pick);
    if (pick.found()) {
      counted(job, now);
      deliver(job, pick, now);
    } else if (!job.request().blocks()) {
      respond(job, placement.unserved(job.request().demand(), now));
    } else if (waiting.size() >= settings.maxWaiting()) {
      reject(job, ProxyError.QUEUE_FULL);
    } else {
      enqueue(job, first);
    }
  }

  /** The job, pinned to an agent when ip-hash waits for it. */
  private static Job pinned(Job job, Placement.Pick pick) {
    return pick.pinnedTo() == null ? job : job.with(job.request().pinnedTo(pick.pinnedTo()));
  }

  /** A request leaves the queue (or skips it): its wait, and one more for the retry budget. */
  void counted(Job job, long now) {
    nodeTraffic.waited(now - job.request().createdNanos());
    retryBudget.recordRequest(now);
  }

  private void deliver(Job job, Placement.Pick pick, long now) {
    if (pick.worker() != null) {
      assign(pick.worker(), job, now);
    } else {
      peers.send(job, pick);
    }
  }

  /** Hands the job to {@code worker}, which takes the slot over as it receives it. */
  private void assign(ActorRef<AgentWorker.Command> worker, Job job, long now) {
    LocalAgent agent = pool.agentOf(worker);
    pool.markBusy(worker);
    agent.traffic.started(now);
    worker.tell(new AgentWorker.Assign(job));
  }

  private void enqueue(Job job, boolean first) {
    waiting.add(job, first);
    job.slot().waitWith(() -> self.tell(new Dispatcher.Abandon(job)));
    scheduleExpiry();
  }

  /** The application of a waiting request went away. */
  void abandon(Job job) {
    // Only a queued job's slot reports here, so it is in the queue (maybe not for long).
    if (waiting.remove(job)) {
      job.slot().finish(); // frees its --concurrent slot
      log.debug("Waiting request left: its client went away");
    }
  }

  /** A worker failed a request before any of its answer left: once more elsewhere, if it may. */
  void retry(Dispatcher.Retry retry) {
    Job job = retry.job();
    if (job.slot().isGone()) {
      job.slot().finish();
      return;
    }
    long now = System.nanoTime();
    Placement.Pick pick = Placement.Pick.NONE;
    if (mayRetry(job.request()) && retryBudget.tryRetry(now)) {
      // Another agent if one is free, else another worker of the same agent.
      pick = placement.choose(job.request(), retry.failedAgent(), now);
      job = pinned(job, pick);
      if (!pick.found()) {
        pick = placement.choose(job.request(), null, now);
      }
    }
    if (!pick.found()) {
      giveUp(retry);
      return;
    }
    job = job.with(job.request().asRetry());
    nodeTraffic.retried();
    log.debug(
        "Retrying {} {} after agent [{}] failed it",
        job.request().method(),
        job.request().target(),
        retry.failedAgent());
    deliver(job, pick, now);
  }

  /** Answers a failed request with its failure, not trying it again. */
  void giveUp(Dispatcher.Retry retry) {
    retry.job().slot().answer(retry.error());
    retry.job().slot().finish();
  }

  /** Idempotent by configuration, whole in memory, and not tried twice already. */
  private boolean mayRetry(ProxiedRequest request) {
    return !request.retried()
        && settings.retries().methods().contains(request.method())
        && request.entity() instanceof HttpEntity.Strict;
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
    Job local = waiting.first(e -> profile.accepts(e.request().demand()));
    PeerBoard.PeerWaiter remote = peers.firstWaiter(profile);
    // Across the cluster: the higher priority first, then whoever waited longer.
    if (remote != null
        && (local == null
            || remote.waiter().before(local.request().traits().priority(), sinceMillis(local)))) {
      peers.lend(worker, profile, remote, waiterOf(local));
    } else if (local != null) {
      waiting.remove(local);
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
          waiting.first(e -> profile.accepts(e.request().demand())) != null
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
    for (Job expired : waiting.takeExpired(System.nanoTime())) {
      refuse(expired, ProxyError.WAIT_TIMEOUT);
    }
    scheduleExpiry();
  }

  /** Answers every waiting request {@code error}, for a hub that stops. */
  void refuseAllWaiting(ProxyError error) {
    for (Job job : waiting.clear()) {
      refuse(job, error);
    }
  }

  /** Answers {@code error}, unless the application is gone already. */
  void refuse(Job job, ProxyError error) {
    if (job.slot().isGone()) {
      job.slot().finish(); // frees its --concurrent slot
    } else {
      reject(job, error);
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

  private void reject(Job job, ProxyError error) {
    respond(job, error.response());
  }

  private void respond(Job job, HttpResponse response) {
    log.debug(
        "Request {} {} rejected: {}",
        job.request().method(),
        job.request().target(),
        response.status());
    job.slot().answer(response);
    job.slot().finish();
  }

  /** Where a request that waits here stands in the cluster's serving order; null for none. */
  static Waiter waiterOf(Job job) {
    return job == null
        ? null
        : new Waiter(job.request().demand(), job.request().traits().priority(), sinceMillis(job));
  }

  /** When the request arrived, in epoch millis, as other nodes compare it. */
  static long sinceMillis(Job job) {
    return System.currentTimeMillis()
        - (System.nanoTime() - job.request().createdNanos()) / 1_000_000;
  }
}
