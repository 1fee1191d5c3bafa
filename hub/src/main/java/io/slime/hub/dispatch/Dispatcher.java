package io.slime.hub.dispatch;

import io.slime.hub.CborSerializable;
import io.slime.hub.cluster.ForwardedRequest;
import io.slime.hub.cluster.IdleGroup;
import io.slime.hub.cluster.PeerBoard;
import io.slime.hub.cluster.PeerHttp;
import io.slime.hub.cluster.PeerRequest;
import io.slime.hub.cluster.RemoteRequest;
import io.slime.hub.cluster.Waiter;
import io.slime.hub.http.ProxyError;
import io.slime.hub.worker.AgentWorker;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

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

  /**
   * Another node's request for one of this node's idle workers (the one lent for it when {@code
   * loan} is not 0). Answered to {@code origin}: accepted by a {@link PeerRequest}, or declined.
   */
  public record Offer(RemoteRequest request, ActorRef<ForwardedRequest.Command> origin, long loan)
      implements Command, CborSerializable {}

  /** Another node's pool as it is now; see {@link PeerBoard}. */
  public record PeerStatus(
      ActorRef<Command> from, List<IdleGroup> groups, List<Waiter> waiting, int waitingCount)
      implements Command, CborSerializable {}

  /**
   * Another node holds one of its idle workers for this node's longest-waiting request that the
   * worker accepts: offer it one (quoting {@code loan}) or return the loan.
   */
  public record Lend(ActorRef<Command> lender, long loan, WorkerProfile profile)
      implements Command, CborSerializable {}

  /** The borrower had no waiting request for a lent worker after all. */
  public record LoanReturned(long loan) implements Command, CborSerializable {}

  /**
   * A worker of {@code peer} that served a request from here is idle again (it turns idle before
   * its answer leaves): count it in until the peer's next status says otherwise.
   */
  public record PeerWorkerFree(ActorRef<Command> peer, WorkerProfile worker) implements Command {}

  /**
   * The agents being drained now (all of them, not a change): their workers finish what they
   * carry and then wait, taking nothing, until the drain ends.
   */
  public record AgentsDrained(Set<String> agentIds) implements Command {}

  /** These token ids are revoked: workers that connected with one are disconnected. */
  public record TokensRevoked(Set<Long> tokenIds) implements Command {}

  /** Asks for every node's pool, as this node knows it. */
  public record GetPool(ActorRef<PoolView> replyTo) implements Command {}

  public record PoolView(List<NodePool> nodes) {}

  /** One node's workers and waiting requests; {@code status} is its cluster membership. */
  public record NodePool(
      String address, String status, boolean self, int workers, int idle, int waiting) {}

  /** How this node works with the other nodes of its cluster. */
  public record PeerSettings(Duration statusInterval, int inlineBodyLimit) {}

  /** Dispatchers of all hub nodes register under this key. */
  public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "slime-dispatcher");

  private record PeersListed(Receptionist.Listing listing) implements Command {}

  private record Unreachable(ClusterEvent.UnreachableMember event) implements Command {}

  private record ForwardedEnded(ActorRef<ForwardedRequest.Command> request) implements Command {}

  private record PeerRequestEnded(ActorRef<PeerRequest.Command> request) implements Command {}

  private record LoanExpired(long loan) implements Command {}

  private enum PublishStatus implements Command {
    INSTANCE
  }

  private record Loan(ActorRef<AgentWorker.Command> worker, WorkerProfile profile) {}

  /** How long a lent worker is held for the borrower before it is idle here again. */
  private static final Duration LOAN_TIMEOUT = Duration.ofSeconds(3);

  /** How many of its oldest waiting requests a node tells the others about. */
  private static final int WAITERS_SHOWN = 32;

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
  // Free workers of drained agents: neither idle nor busy, they wait for the drain to end.
  private final Set<ActorRef<AgentWorker.Command>> parked = new HashSet<>();
  private Set<String> drainedAgents = Set.of();
  // Abandoned requests stay in the deque until they are met; waitingCount counts the live ones.
  private final ArrayDeque<Exchange> waiting = new ArrayDeque<>();
  private int waitingCount;
  private List<ActorRef<Done>> drainedReplies; // null until the hub starts stopping

  // Cluster only; peerSettings is null on a node that runs alone.
  private final PeerSettings peerSettings;
  private final PeerBoard board = new PeerBoard();
  private final Set<ActorRef<Command>> peers = new HashSet<>();
  private final Map<Long, Loan> loans = new HashMap<>();
  // Requests crossing nodes, by the node at the other end: failed at once if it becomes unreachable.
  private final Map<ActorRef<ForwardedRequest.Command>, Address> forwarded = new HashMap<>();
  private final Map<ActorRef<PeerRequest.Command>, Address> servedForPeers = new HashMap<>();
  private long lastLoan;

  private Dispatcher(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      int maxWaiting,
      Duration maxWait,
      PeerSettings peerSettings) {
    super(context);
    this.timers = timers;
    this.maxWaiting = maxWaiting;
    this.maxWait = maxWait;
    this.peerSettings = peerSettings;
  }

  /** The dispatcher of a node that runs alone. */
  public static Behavior<Command> create(int maxWaiting, Duration maxWait) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> new Dispatcher(context, timers, maxWaiting, maxWait, null)));
  }

  /** The dispatcher of a cluster node: it finds the others' dispatchers and shares its pool. */
  public static Behavior<Command> create(int maxWaiting, Duration maxWait, PeerSettings peers) {
    return Behaviors.setup(
        context -> {
          ActorRef<Receptionist.Listing> listings =
              context.messageAdapter(Receptionist.Listing.class, PeersListed::new);
          context.getSystem().receptionist().tell(Receptionist.register(KEY, context.getSelf()));
          context.getSystem().receptionist().tell(Receptionist.subscribe(KEY, listings));
          Cluster.get(context.getSystem())
              .subscriptions()
              .tell(
                  Subscribe.create(
                      context.messageAdapter(ClusterEvent.UnreachableMember.class, Unreachable::new),
                      ClusterEvent.UnreachableMember.class));
          return Behaviors.withTimers(
              timers -> new Dispatcher(context, timers, maxWaiting, maxWait, peers));
        });
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
        .onMessage(GetPool.class, this::onGetPool)
        .onMessage(TokensRevoked.class, this::onTokensRevoked)
        .onMessage(AgentsDrained.class, this::onAgentsDrained)
        .onMessage(Drain.class, this::onDrain)
        .onMessageEquals(ExpireWaiting.INSTANCE, this::onExpireWaiting)
        .onMessage(PeersListed.class, this::onPeersListed)
        .onMessage(Unreachable.class, this::onUnreachable)
        .onMessage(
            ForwardedEnded.class,
            m -> {
              forwarded.remove(m.request());
              return this;
            })
        .onMessage(
            PeerRequestEnded.class,
            m -> {
              servedForPeers.remove(m.request());
              return this;
            })
        .onMessage(PeerStatus.class, this::onPeerStatus)
        .onMessage(Offer.class, this::onOffer)
        .onMessage(Lend.class, this::onLend)
        .onMessage(
            PeerWorkerFree.class,
            m -> {
              board.free(m.peer(), m.worker());
              return this;
            })
        .onMessage(LoanReturned.class, m -> onLoanBack(m.loan()))
        .onMessage(LoanExpired.class, m -> onLoanBack(m.loan()))
        .onMessageEquals(PublishStatus.INSTANCE, this::onPublishStatus)
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
    ActorRef<AgentWorker.Command> worker = takeIdle(exchange.scope(), exchange.path());
    if (worker != null) {
      worker.tell(new AgentWorker.Assign(exchange));
      return changed();
    }
    ActorRef<Command> peer =
        peerSettings == null ? null : board.takeIdle(exchange.scope(), exchange.path());
    if (peer != null) {
      forward(exchange, peer, 0);
      return this;
    }
    if (!exchange.blocks()) {
      reject(exchange, whyNoWorker(exchange));
    } else if (waitingCount >= maxWaiting) {
      reject(exchange, ProxyError.QUEUE_FULL);
    } else {
      enqueue(exchange, first);
    }
    return changed();
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
    for (WorkerProfile profile : workers.values()) {
      if (profile.accepts(exchange.scope(), exchange.path())) {
        return ProxyError.ALL_BUSY;
      }
    }
    if (board.anyWorker(exchange.scope(), exchange.path())) {
      return ProxyError.ALL_BUSY;
    }
    return workers.isEmpty() && !board.anyWorker()
        ? ProxyError.NO_AGENT
        : ProxyError.NO_MATCHING_WORKER;
  }

  private Behavior<Command> onAbandon(Abandon abandon) {
    // Only a queued exchange registers this callback, so it is in the deque (maybe not for long).
    if (waiting.remove(abandon.exchange())) {
      waitingCount--;
      abandon.exchange().finish(); // frees its --concurrent slot
      getContext().getLog().debug("Waiting request left: its client went away");
    }
    return changed();
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
    if (drainedAgents.contains(profile.agentId())) {
      parked.add(worker);
      replyIfDrained();
      return changed();
    }
    Exchange local = firstWaiting(profile);
    PeerBoard.PeerWaiter remote =
        peerSettings == null || drainedReplies != null ? null : board.oldestWaiter(profile);
    // First come, first served across the cluster: a request waiting longer elsewhere goes first.
    if (remote != null && (local == null || remote.waiter().sinceMillis() < sinceMillis(local))) {
      lend(worker, profile, remote);
    } else if (local != null) {
      waiting.remove(local);
      waitingCount--;
      local.whenGone(() -> {}); // the worker takes over listening
      worker.tell(new AgentWorker.Assign(local));
    } else {
      idle.put(worker, profile);
      replyIfDrained();
    }
    return changed();
  }

  /** The longest-waiting live request {@code profile} accepts, or null. */
  private Exchange firstWaiting(WorkerProfile profile) {
    for (Exchange exchange : waiting) {
      // A gone one's Abandon is on the way and will find it gone.
      if (!exchange.isGone() && profile.accepts(exchange.scope(), exchange.path())) {
        return exchange;
      }
    }
    return null;
  }

  private static long sinceMillis(Exchange exchange) {
    return System.currentTimeMillis() - (System.nanoTime() - exchange.createdNanos()) / 1_000_000;
  }

  // ---- the cluster ----

  private Behavior<Command> onPeersListed(PeersListed listed) {
    Set<ActorRef<Command>> live = new HashSet<>(listed.listing().getServiceInstances(KEY));
    live.remove(getContext().getSelf());
    board.retain(live);
    PeerStatus status = currentStatus();
    for (ActorRef<Command> peer : live) {
      if (peers.add(peer)) {
        getContext().getLog().info("Hub node {} joined the pool", peer.path().address());
        peer.tell(status);
      }
    }
    for (Iterator<ActorRef<Command>> it = peers.iterator(); it.hasNext(); ) {
      ActorRef<Command> peer = it.next();
      if (!live.contains(peer)) {
        it.remove();
        getContext().getLog().info("Hub node {} left the pool", peer.path().address());
      }
    }
    return this;
  }

  /**
   * A node stopped answering: offer it nothing more, fail the requests it serves for this node
   * (502 at once rather than when it is finally removed) and cancel those this node serves for it.
   */
  private Behavior<Command> onUnreachable(Unreachable unreachable) {
    Address address = unreachable.event().member().address();
    getContext().getLog().warn("Hub node {} is unreachable", address);
    peers.removeIf(peer -> peer.path().address().equals(address));
    board.retain(peers);
    forwarded.forEach(
        (request, at) -> {
          if (at.equals(address)) {
            request.tell(ForwardedRequest.PeerUnreachable.INSTANCE);
          }
        });
    servedForPeers.forEach(
        (request, at) -> {
          if (at.equals(address)) {
            request.tell(PeerRequest.Cancel.INSTANCE);
          }
        });
    return this;
  }

  private Behavior<Command> onPeerStatus(PeerStatus status) {
    if (peers.add(status.from())) {
      // It saw this node before this node's listing showed it: answer in kind.
      getContext().getLog().info("Hub node {} joined the pool", status.from().path().address());
      status.from().tell(currentStatus());
    }
    board.update(status.from(), status.groups(), status.waiting(), status.waitingCount());
    if (drainedReplies != null) {
      return this;
    }
    // Idle workers here, requests waiting there: lend them, longest waiting first.
    for (Iterator<Map.Entry<ActorRef<AgentWorker.Command>, WorkerProfile>> it =
            idle.entrySet().iterator();
        it.hasNext(); ) {
      Map.Entry<ActorRef<AgentWorker.Command>, WorkerProfile> entry = it.next();
      PeerBoard.PeerWaiter remote = board.oldestWaiter(entry.getValue());
      if (remote != null) {
        it.remove();
        lend(entry.getKey(), entry.getValue(), remote);
      }
    }
    return changed();
  }

  private void lend(
      ActorRef<AgentWorker.Command> worker, WorkerProfile profile, PeerBoard.PeerWaiter remote) {
    long loan = ++lastLoan;
    loans.put(loan, new Loan(worker, profile));
    board.remove(remote);
    timers.startSingleTimer(new LoanExpired(loan), new LoanExpired(loan), LOAN_TIMEOUT);
    remote.peer().tell(new Lend(getContext().getSelf(), loan, profile));
  }

  private Behavior<Command> onLend(Lend lend) {
    Exchange exchange = drainedReplies == null ? firstWaiting(lend.profile()) : null;
    if (exchange == null) {
      lend.lender().tell(new LoanReturned(lend.loan()));
      return this;
    }
    waiting.remove(exchange);
    waitingCount--;
    forward(exchange, lend.lender(), lend.loan());
    return changed();
  }

  private Behavior<Command> onLoanBack(long number) {
    timers.cancel(new LoanExpired(number));
    Loan loan = loans.remove(number);
    return loan == null ? this : onWorkerIdle(loan.worker());
  }

  private Behavior<Command> onOffer(Offer offer) {
    ActorRef<AgentWorker.Command> worker = null;
    Loan loan = offer.loan() == 0 ? null : loans.remove(offer.loan());
    if (loan != null) {
      timers.cancel(new LoanExpired(offer.loan()));
      worker = loan.worker();
    } else if (drainedReplies == null) {
      worker = takeIdle(offer.request().scope(), offer.request().path());
    }
    WorkerProfile profile = worker == null ? null : workers.get(worker);
    if (profile == null) {
      offer.origin().tell(ForwardedRequest.Declined.INSTANCE);
      return this;
    }
    CompletableFuture<Source<ByteString, NotUsed>> body = new CompletableFuture<>();
    Exchange exchange =
        PeerHttp.exchange(
            offer.request(),
            Source.completionStageSource(body).mapMaterializedValue(m -> NotUsed.getInstance()));
    ActorRef<PeerRequest.Command> served =
        getContext()
            .spawnAnonymous(
                PeerRequest.create(
                    exchange,
                    body,
                    offer.origin(),
                    acceptance(profile),
                    peerSettings.inlineBodyLimit()));
    servedForPeers.put(served, offer.origin().path().address());
    getContext().watchWith(served, new PeerRequestEnded(served));
    worker.tell(new AgentWorker.Assign(exchange));
    return changed();
  }

  private ActorRef<AgentWorker.Command> takeIdle(String scope, String path) {
    for (Iterator<Map.Entry<ActorRef<AgentWorker.Command>, WorkerProfile>> it =
            idle.entrySet().iterator();
        it.hasNext(); ) {
      Map.Entry<ActorRef<AgentWorker.Command>, WorkerProfile> entry = it.next();
      if (entry.getValue().accepts(scope, path)) {
        it.remove();
        return entry.getKey();
      }
    }
    return null;
  }

  private void forward(Exchange exchange, ActorRef<Command> peer, long loan) {
    getContext().getLog().debug("Request {} {} goes to hub node {}", exchange.method(),
        exchange.target(), peer.path().address());
    ActorRef<ForwardedRequest.Command> request =
        getContext()
            .spawnAnonymous(
                ForwardedRequest.create(
                    exchange, getContext().getSelf(), peer, loan, peerSettings.inlineBodyLimit()));
    forwarded.put(request, peer.path().address());
    getContext().watchWith(request, new ForwardedEnded(request));
  }

  /** Schedules telling the other nodes about a change here, at most once per status interval. */
  private Behavior<Command> changed() {
    if (peerSettings != null && !timers.isTimerActive(PublishStatus.INSTANCE)) {
      timers.startSingleTimer(
          PublishStatus.INSTANCE, PublishStatus.INSTANCE, peerSettings.statusInterval());
    }
    return this;
  }

  private Behavior<Command> onPublishStatus() {
    // Sent even when it looks unchanged: a peer counts off what it takes from its copy, so a worker
    // that went busy and idle again must be announced again.
    PeerStatus status = currentStatus();
    peers.forEach(peer -> peer.tell(status));
    return this;
  }

  private PeerStatus currentStatus() {
    Map<WorkerProfile, int[]> counts = new LinkedHashMap<>();
    for (Map.Entry<ActorRef<AgentWorker.Command>, WorkerProfile> entry : workers.entrySet()) {
      int[] count = counts.computeIfAbsent(acceptance(entry.getValue()), k -> new int[2]);
      count[1]++;
      if (idle.containsKey(entry.getKey())) {
        count[0]++;
      }
    }
    List<IdleGroup> groups = new ArrayList<>(counts.size());
    // A draining node offers nothing to the others.
    counts.forEach(
        (accepts, count) ->
            groups.add(new IdleGroup(accepts, drainedReplies == null ? count[0] : 0, count[1])));
    List<Waiter> shown = new ArrayList<>();
    for (Exchange exchange : waiting) {
      if (shown.size() == WAITERS_SHOWN) {
        break;
      }
      if (!exchange.isGone()) {
        shown.add(new Waiter(exchange.scope(), exchange.path(), sinceMillis(exchange)));
      }
    }
    return new PeerStatus(getContext().getSelf(), groups, shown, waitingCount);
  }

  /** What a worker accepts, without who it is: workers alike count as one group. */
  private static WorkerProfile acceptance(WorkerProfile profile) {
    return new WorkerProfile("", "", 0, profile.scopes(), profile.scopePaths());
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
    return changed();
  }

  private void replyIfDrained() {
    if (drainedReplies != null && idle.size() + parked.size() == workers.size()) {
      drainedReplies.forEach(replyTo -> replyTo.tell(Done.getInstance()));
      drainedReplies.clear();
    }
  }

  private Behavior<Command> forget(ActorRef<AgentWorker.Command> worker) {
    WorkerProfile profile = workers.remove(worker);
    idle.remove(worker);
    parked.remove(worker);
    loans.values().removeIf(loan -> loan.worker().equals(worker));
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
    return changed();
  }

  private Behavior<Command> onGetStats(GetStats get) {
    get.replyTo().tell(new Stats(workers.size(), idle.size(), waitingCount));
    return this;
  }

  private Behavior<Command> onAgentsDrained(AgentsDrained drained) {
    for (String agentId : drained.agentIds()) {
      if (!drainedAgents.contains(agentId) && workersPerAgent.containsKey(agentId)) {
        getContext().getLog().info("Agent id [{}] drained: it takes no new requests", agentId);
      }
    }
    drainedAgents = drained.agentIds();
    idle.entrySet()
        .removeIf(
            entry -> {
              boolean drain = drainedAgents.contains(entry.getValue().agentId());
              if (drain) {
                parked.add(entry.getKey());
              }
              return drain;
            });
    List<ActorRef<AgentWorker.Command>> released = new ArrayList<>();
    for (ActorRef<AgentWorker.Command> worker : parked) {
      WorkerProfile profile = workers.get(worker);
      if (profile != null && !drainedAgents.contains(profile.agentId())) {
        released.add(worker);
      }
    }
    released.forEach(parked::remove);
    released.forEach(this::onWorkerIdle);
    return changed();
  }

  private Behavior<Command> onTokensRevoked(TokensRevoked revoked) {
    workers.forEach(
        (worker, profile) -> {
          if (revoked.tokenIds().contains(profile.tokenId())) {
            getContext().getLog().info(
                "Agent [{}] id [{}] worker [{}] disconnected: its token was revoked",
                profile.agentName(), profile.agentId(), profile.workerIndex());
            worker.tell(AgentWorker.Revoked.INSTANCE);
          }
        });
    return this;
  }

  private Behavior<Command> onGetPool(GetPool get) {
    List<NodePool> nodes = new ArrayList<>();
    if (peerSettings == null) {
      nodes.add(new NodePool(
          getContext().getSystem().address().toString(), "Up", true, workers.size(), idle.size(),
          waitingCount));
    } else {
      Map<Address, PeerBoard.Summary> known = board.summaries();
      Address selfAddress = Cluster.get(getContext().getSystem()).selfMember().address();
      for (Member member : Cluster.get(getContext().getSystem()).state().getMembers()) {
        Address address = member.address();
        boolean self = address.equals(selfAddress);
        PeerBoard.Summary summary =
            self
                ? new PeerBoard.Summary(workers.size(), idle.size(), waitingCount)
                : known.getOrDefault(address, new PeerBoard.Summary(0, 0, 0));
        nodes.add(new NodePool(address.toString(), member.status().toString(), self,
            summary.workers(), summary.idle(), summary.waiting()));
      }
    }
    get.replyTo().tell(new PoolView(nodes));
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
    return changed();
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
