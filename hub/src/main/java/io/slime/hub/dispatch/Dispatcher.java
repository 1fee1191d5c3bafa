package io.slime.hub.dispatch;

import io.slime.hub.CborSerializable;
import io.slime.hub.http.ProxyError;
import io.slime.hub.worker.AgentWorker;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Gives each application request to exactly one idle worker. Holds the idle workers (longest idle
 * first) and the requests waiting with {@code Slime-Block: 1} (first come, first served), and
 * matches them the moment either side arrives: no polling. One per hub node.
 *
 * <p>Talks to: the front door ({@link Dispatch}, {@link Abandon}), and {@link AgentWorker}s, which
 * report {@link WorkerJoined}, {@link WorkerIdle} and {@link WorkerLeft} and receive {@link
 * AgentWorker.Assign}. A leaving worker is answered {@link AgentWorker.Released} only after the
 * dispatcher forgot it, so an assignment already on its way is bounced back, never lost.
 */
public final class Dispatcher extends AbstractBehavior<Dispatcher.Command> {

  public sealed interface Command {}

  /** An application request looking for a worker. */
  public record Dispatch(Exchange exchange) implements Command {}

  /** The application of a waiting request went away. */
  public record Abandon(Exchange exchange) implements Command {}

  /** A worker could not take an assignment (its connection closed); serve the request first. */
  public record Redispatch(Exchange exchange) implements Command {}

  /** A worker connection opened and is idle. */
  public record WorkerJoined(ActorRef<AgentWorker.Command> worker, WorkerProfile profile)
      implements Command, CborSerializable {}

  /** A worker finished its request and is idle again. */
  public record WorkerIdle(ActorRef<AgentWorker.Command> worker)
      implements Command, CborSerializable {}

  /** A worker's connection closed; it is answered {@link AgentWorker.Released}. */
  public record WorkerLeft(ActorRef<AgentWorker.Command> worker)
      implements Command, CborSerializable {}

  /**
   * The hub is stopping: waiting and new requests are answered 503 shutting-down; {@code replyTo}
   * hears once no worker is busy any more.
   */
  public record Drain(ActorRef<Done> replyTo) implements Command {}

  /** Asks for the current counts. */
  public record GetStats(ActorRef<Stats> replyTo) implements Command, CborSerializable {}

  public record Stats(int workers, int idle, int waiting) implements CborSerializable {}

  /** A worker stopped; normally after WorkerLeft, this also covers one that crashed. */
  private record WorkerStopped(ActorRef<AgentWorker.Command> worker) implements Command {}

  private enum ExpireWaiting implements Command {
    INSTANCE
  }

  private final Duration maxWait;
  private final int maxWaiting;
  private final TimerScheduler<Command> timers;

  private final Map<ActorRef<AgentWorker.Command>, WorkerProfile> workers = new HashMap<>();
  private final Map<String, ActorRef<AgentWorker.Command>> workerBySlot = new HashMap<>();
  private final Map<String, Integer> workersPerAgent = new HashMap<>();
  private final LinkedHashMap<ActorRef<AgentWorker.Command>, WorkerProfile> idle =
      new LinkedHashMap<>();
  // Abandoned requests stay in the deque until they are met; waitingCount counts the live ones.
  private final ArrayDeque<Exchange> waiting = new ArrayDeque<>();
  private int waitingCount;
  private List<ActorRef<Done>> drainedReplies; // null until the hub starts stopping

  private Dispatcher(
      ActorContext<Command> context, TimerScheduler<Command> timers, int maxWaiting, Duration maxWait) {
    super(context);
    this.timers = timers;
    this.maxWaiting = maxWaiting;
    this.maxWait = maxWait;
  }

  public static Behavior<Command> create(int maxWaiting, Duration maxWait) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(timers -> new Dispatcher(context, timers, maxWaiting, maxWait)));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Dispatch.class, m -> onDispatch(m.exchange(), false))
        .onMessage(Redispatch.class, m -> onDispatch(m.exchange(), true))
        .onMessage(Abandon.class, this::onAbandon)
        .onMessage(WorkerJoined.class, this::onWorkerJoined)
        .onMessage(WorkerIdle.class, m -> onWorkerIdle(m.worker()))
        .onMessage(WorkerLeft.class, this::onWorkerLeft)
        .onMessage(WorkerStopped.class, m -> forget(m.worker()))
        .onMessage(GetStats.class, this::onGetStats)
        .onMessage(Drain.class, this::onDrain)
        .onMessageEquals(ExpireWaiting.INSTANCE, this::onExpireWaiting)
        .build();
  }

  private Behavior<Command> onDispatch(Exchange exchange, boolean first) {
    if (exchange.isGone()) {
      exchange.finish(); // frees its --concurrent slot
      return this;
    }
    if (drainedReplies != null) {
      reject(exchange, ProxyError.SHUTTING_DOWN);
      return this;
    }
    for (Iterator<Map.Entry<ActorRef<AgentWorker.Command>, WorkerProfile>> it =
            idle.entrySet().iterator();
        it.hasNext(); ) {
      Map.Entry<ActorRef<AgentWorker.Command>, WorkerProfile> entry = it.next();
      if (entry.getValue().accepts(exchange.scope(), exchange.path())) {
        it.remove();
        entry.getKey().tell(new AgentWorker.Assign(exchange));
        return this;
      }
    }
    if (!exchange.blocks()) {
      reject(exchange, whyNoWorker(exchange));
    } else if (waitingCount >= maxWaiting) {
      reject(exchange, ProxyError.QUEUE_FULL);
    } else {
      enqueue(exchange, first);
    }
    return this;
  }

  private void enqueue(Exchange exchange, boolean first) {
    if (first) {
      waiting.addFirst(exchange);
    } else {
      waiting.addLast(exchange);
    }
    waitingCount++;
    exchange.whenGone(() -> getContext().getSelf().tell(new Abandon(exchange)));
    if (!timers.isTimerActive(ExpireWaiting.INSTANCE)) {
      scheduleExpiry();
    }
  }

  private ProxyError whyNoWorker(Exchange exchange) {
    if (workers.isEmpty()) {
      return ProxyError.NO_AGENT;
    }
    for (WorkerProfile profile : workers.values()) {
      if (profile.accepts(exchange.scope(), exchange.path())) {
        return ProxyError.ALL_BUSY;
      }
    }
    return ProxyError.NO_MATCHING_WORKER;
  }

  private Behavior<Command> onAbandon(Abandon abandon) {
    // Only a queued exchange registers this callback, so it is in the deque (maybe not for long).
    if (waiting.remove(abandon.exchange())) {
      waitingCount--;
      abandon.exchange().finish(); // frees its --concurrent slot
      getContext().getLog().debug("Waiting request left: its client went away");
    }
    return this;
  }

  private Behavior<Command> onWorkerJoined(WorkerJoined joined) {
    WorkerProfile profile = joined.profile();
    ActorRef<AgentWorker.Command> previous = workerBySlot.put(profile.slot(), joined.worker());
    if (previous != null && !previous.equals(joined.worker())) {
      getContext().getLog().info(
          "Agent [{}] id [{}] worker [{}] reconnected; replacing its old connection",
          profile.agentName(), profile.agentId(), profile.workerIndex());
      previous.tell(AgentWorker.Replace.INSTANCE);
    }
    workers.put(joined.worker(), profile);
    getContext().watchWith(joined.worker(), new WorkerStopped(joined.worker()));
    int count = workersPerAgent.merge(profile.agentId(), 1, Integer::sum);
    if (count == 1) {
      getContext().getLog().info(
          "Agent [{}] id [{}] joined", profile.agentName(), profile.agentId());
    }
    return onWorkerIdle(joined.worker());
  }

  private Behavior<Command> onWorkerIdle(ActorRef<AgentWorker.Command> worker) {
    WorkerProfile profile = workers.get(worker);
    if (profile == null) {
      return this; // it left meanwhile
    }
    for (Iterator<Exchange> it = waiting.iterator(); it.hasNext(); ) {
      Exchange exchange = it.next();
      if (exchange.isGone()) {
        continue; // its Abandon is on the way and will find it gone
      }
      if (profile.accepts(exchange.scope(), exchange.path())) {
        it.remove();
        waitingCount--;
        exchange.whenGone(() -> {}); // the worker takes over listening
        worker.tell(new AgentWorker.Assign(exchange));
        return this;
      }
    }
    idle.put(worker, profile);
    replyIfDrained();
    return this;
  }

  private Behavior<Command> onWorkerLeft(WorkerLeft left) {
    forget(left.worker());
    left.worker().tell(AgentWorker.Released.INSTANCE);
    return this;
  }

  private Behavior<Command> onDrain(Drain drain) {
    if (drainedReplies == null) {
      drainedReplies = new ArrayList<>();
      for (Exchange exchange : waiting) {
        if (!exchange.isGone()) {
          reject(exchange, ProxyError.SHUTTING_DOWN);
        }
      }
      waiting.clear();
      waitingCount = 0;
    }
    drainedReplies.add(drain.replyTo());
    replyIfDrained();
    return this;
  }

  private void replyIfDrained() {
    if (drainedReplies != null && idle.size() == workers.size()) {
      drainedReplies.forEach(replyTo -> replyTo.tell(Done.getInstance()));
      drainedReplies.clear();
    }
  }

  private Behavior<Command> forget(ActorRef<AgentWorker.Command> worker) {
    WorkerProfile profile = workers.remove(worker);
    idle.remove(worker);
    if (profile != null) {
      getContext().unwatch(worker);
      workerBySlot.remove(profile.slot(), worker);
      int remaining = workersPerAgent.merge(profile.agentId(), -1, Integer::sum);
      if (remaining == 0) {
        workersPerAgent.remove(profile.agentId());
        getContext().getLog().info(
            "Agent [{}] id [{}] left", profile.agentName(), profile.agentId());
      }
    }
    replyIfDrained();
    return this;
  }

  private Behavior<Command> onGetStats(GetStats get) {
    get.replyTo().tell(new Stats(workers.size(), idle.size(), waitingCount));
    return this;
  }

  private Behavior<Command> onExpireWaiting() {
    long now = System.nanoTime();
    long maxWaitNanos = maxWait.toNanos();
    while (!waiting.isEmpty()) {
      Exchange head = waiting.peekFirst();
      if (head.isGone()) {
        // Still counted: its Abandon is on the way and will not find it in the deque any more.
        waiting.pollFirst();
        waitingCount--;
        head.finish(); // frees its --concurrent slot
        continue;
      }
      if (now - head.createdNanos() < maxWaitNanos) {
        break;
      }
      waiting.pollFirst();
      waitingCount--;
      reject(head, ProxyError.WAIT_TIMEOUT);
    }
    if (!waiting.isEmpty()) {
      scheduleExpiry();
    }
    return this;
  }

  /** Requests wait in arrival order, so the head is always the next to expire. */
  private void scheduleExpiry() {
    Exchange head = waiting.peekFirst();
    long dueIn = head.createdNanos() + maxWait.toNanos() - System.nanoTime();
    timers.startSingleTimer(
        ExpireWaiting.INSTANCE, ExpireWaiting.INSTANCE, Duration.ofNanos(Math.max(dueIn, 0) + 1_000_000));
  }

  private void reject(Exchange exchange, ProxyError error) {
    getContext().getLog().debug("Request {} {} rejected: {}", exchange.method(), exchange.target(), error);
    exchange.respond(error.response());
    exchange.finish();
  }
}
