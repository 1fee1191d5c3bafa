package io.slime.hub.dispatch;

import io.slime.hub.model.CborSerializable;
import io.slime.hub.model.Job;
import io.slime.hub.model.Outcome;
import io.slime.hub.model.ProxyError;
import io.slime.hub.model.WorkerProfile;
import io.slime.hub.peer.ForwardedRequest;
import io.slime.hub.peer.PeerRequest;
import io.slime.hub.peer.RemoteRequest;
import io.slime.hub.policy.Balancer;
import io.slime.hub.replicated.AgentControl;
import io.slime.hub.stats.AgentTrafficRegistry;
import io.slime.hub.stats.TrafficStats;
import io.slime.hub.worker.AgentWorker;
import io.slime.shared.agent.AgentReport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.random.RandomGenerator;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.ReceiveBuilder;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.stream.javadsl.Flow;

/**
 * Gives each application request to exactly one idle worker. Holds this node's agents and their
 * workers ({@link Pool}, kept by the {@link AgentRoster}) and the requests waiting with {@code
 * Slime-Block: 1} ({@link WaitingRequests}: by priority, then first come, first served), and {@link
 * Matching} matches them the moment either side arrives: no polling. {@link Placement} decides
 * where a request goes, across the cluster; {@link Peers} deals with the other nodes. This class
 * keeps the protocol, the receive and the delegation. One per hub node.
 *
 * <p>States: serving, then {@link Draining} once the hub stops.
 *
 * <p>Talks to: the front door ({@link Dispatch}, {@link Abandon}); the agent socket ({@link
 * CheckAgentId}, {@link SpawnWorker}); the {@link AgentWorker}s it spawns, which receive {@link
 * AgentWorker.Assign} and report {@link AgentWorker.Report}s through an adapter (taken in as {@link
 * WorkerJoined}, {@link WorkerIdle}, {@link WorkerReported}, {@link Retry}, {@link Redispatch} and
 * {@link WorkerLeft}); the dispatchers of other nodes (the {@link PeerMessage}s); the replicated
 * operator state ({@link ControlsChanged}, {@link TokensRevoked}); and the admin API. A leaving
 * worker is answered {@link AgentWorker.Released} only after the dispatcher forgot it, so an
 * assignment already on its way is bounced back, never lost.
 */
public final class Dispatcher extends AbstractBehavior<Dispatcher.Command> {

  public sealed interface Command {}

  /**
   * The messages that cross hub nodes (other nodes' dispatchers, and the admin API asking every
   * node), and so must serialize: bound to jackson-cbor through {@link CborSerializable}.
   */
  public sealed interface PeerMessage extends CborSerializable
      permits Offer,
          PeerStatus,
          Lend,
          LoanReturned,
          GetStats,
          Stats,
          DisconnectAgent,
          GetNodeView,
          NodeView {}

  /** An application request looking for a worker. */
  public record Dispatch(Job job) implements Command {}

  /** The application of a waiting request went away. */
  public record Abandon(Job job) implements Command {}

  /** A worker could not take an assignment (its connection closed); serve the request first. */
  public record Redispatch(Job job) implements Command {}

  /**
   * May a connection with token {@code tokenId} take worker slots of {@code agentId}? Asked before
   * the upgrade. An agent id belongs to the token whose workers hold it, here or, as of their last
   * status, at another node; once none of them is left, to whichever token comes next.
   */
  public record CheckAgentId(String agentId, long tokenId, ActorRef<AgentIdAnswer> replyTo)
      implements Command {}

  /** The answer to {@link CheckAgentId}. */
  public sealed interface AgentIdAnswer {}

  /** Nobody holds the agent id, or the asking token does. */
  public enum AgentIdFree implements AgentIdAnswer {
    INSTANCE
  }

  /** Workers of another token hold the agent id, at {@code node}. */
  public record AgentIdTaken(String tokenName, long tokenId, String node)
      implements AgentIdAnswer {}

  /**
   * Make a worker for an agent connection being upgraded; the worker answers {@code replyTo} with
   * its WebSocket flow, and reports here.
   */
  public record SpawnWorker(
      WorkerProfile profile,
      AgentWorker.WorkerSettings settings,
      ActorRef<Flow<Message, Message, NotUsed>> replyTo)
      implements Command {}

  /** A worker connection opened and is idle. */
  public record WorkerJoined(ActorRef<AgentWorker.Command> worker, WorkerProfile profile)
      implements Command {}

  /** A worker finished its request and is idle again. */
  public record WorkerIdle(ActorRef<AgentWorker.Command> worker, Outcome outcome)
      implements Command {
    public WorkerIdle(ActorRef<AgentWorker.Command> worker) {
      this(worker, Outcome.NEUTRAL);
    }
  }

  /** A worker's connection closed; it is answered {@link AgentWorker.Released}. */
  public record WorkerLeft(ActorRef<AgentWorker.Command> worker) implements Command {}

  /** A worker passed on its agent's report (its upstream's health, its machine's load). */
  public record WorkerReported(ActorRef<AgentWorker.Command> worker, AgentReport report)
      implements Command {}

  /**
   * A worker failed {@code job} before any of the answer reached the application: try it once more
   * on another worker if it may be, else answer {@code error}. Sent while the failed worker still
   * counts busy, so it is never the one chosen.
   */
  public record Retry(Job job, String failedAgent, HttpResponse error) implements Command {}

  /**
   * The hub is stopping: waiting and new requests are answered 503 shutting-down; {@code replyTo}
   * hears once no worker is busy any more.
   */
  public record Drain(ActorRef<Done> replyTo) implements Command {}

  /** Asks for the current counts. */
  public record GetStats(ActorRef<Stats> replyTo) implements Command, PeerMessage {}

  /** This node's workers, its idle ones that take requests now, and its waiting requests. */
  public record Stats(int workers, int idle, int waiting) implements PeerMessage {}

  /**
   * Another node's request for one of this node's idle workers: the one lent for it when {@code
   * loan} is not 0, else one of {@code agentId}'s (any agent's when null). Answered to {@code
   * origin}: accepted by a {@link PeerRequest}, or declined.
   */
  public record Offer(
      RemoteRequest request, ActorRef<ForwardedRequest.Command> origin, long loan, String agentId)
      implements Command, PeerMessage {}

  /** Another node's pool as it is now; see {@link PeerBoard}. */
  public record PeerStatus(
      ActorRef<Command> from, List<AgentSummary> agents, List<Waiter> waiting, int waitingCount)
      implements Command, PeerMessage {}

  /**
   * Another node holds one of its idle workers for this node's first waiting request that the
   * worker accepts: offer it one (quoting {@code loan}) or return the loan. {@code rival} is the
   * lender's own first waiting request for the worker, null when it has none: the loan is for a
   * request served before it. The lender's view of this node's queue can be a status interval old,
   * and a request it lent for may already be served.
   */
  public record Lend(ActorRef<Command> lender, long loan, WorkerProfile profile, Waiter rival)
      implements Command, PeerMessage {}

  /** The borrower had no waiting request for a lent worker after all. */
  public record LoanReturned(long loan) implements Command, PeerMessage {}

  /**
   * A worker of {@code peer} that served a request from here is idle again (it turns idle before
   * its answer leaves): count it in until the peer's next status says otherwise.
   */
  public record PeerWorkerFree(ActorRef<Command> peer, WorkerProfile worker) implements Command {}

  /** The operators' settings for every agent that has some (all of them, not a change). */
  public record ControlsChanged(Map<String, AgentControl> controls) implements Command {}

  /** These token ids are revoked: workers that connected with one are disconnected. */
  public record TokensRevoked(Set<Long> tokenIds) implements Command {}

  /** Closes the connections of {@code agentId}'s workers here; answers how many there were. */
  public record DisconnectAgent(String agentId, ActorRef<Integer> replyTo)
      implements Command, PeerMessage {}

  /** Asks for every node's pool, as this node knows it. */
  public record GetPool(ActorRef<PoolView> replyTo) implements Command {}

  /** Every node's pool in short, and how many agents the cluster has. */
  public record PoolView(List<NodePool> nodes, int agents) {}

  /** One node's workers and waiting requests; {@code status} is its cluster membership. */
  public record NodePool(
      String address, String status, boolean self, int workers, int idle, int waiting) {}

  /** Asks for the dispatchers of every node this one knows, itself first. */
  public record ListNodes(ActorRef<Nodes> replyTo) implements Command {}

  public record Nodes(List<ActorRef<Command>> dispatchers) {}

  /** Asks for this node's agents, workers and traffic, for the admin API. */
  public record GetNodeView(ActorRef<NodeView> replyTo) implements Command, PeerMessage {}

  /** Dispatchers of all hub nodes register under this key. */
  public static final ServiceKey<Command> KEY =
      ServiceKey.create(Command.class, "slime-dispatcher");

  private record PeersListed(Receptionist.Listing listing) implements Command {}

  private record Unreachable(ClusterEvent.UnreachableMember event) implements Command {}

  /** A request crossing nodes (a {@link ForwardedRequest} or a {@link PeerRequest}) stopped. */
  record CrossingEnded(ActorRef<?> request) implements Command {}

  record LoanExpired(long loan) implements Command {}

  /** A worker stopped; normally after WorkerLeft, this also covers one that crashed. */
  private record WorkerStopped(ActorRef<AgentWorker.Command> worker) implements Command {}

  enum PublishStatus implements Command {
    INSTANCE
  }

  enum ExpireWaiting implements Command {
    INSTANCE
  }

  /** Once a second: ejections that end, limit windows that free, counters to forget. */
  private enum Tick implements Command {
    INSTANCE
  }

  private static final Duration TICK = Duration.ofSeconds(1);

  /** How long an agent's counters outlive it, so a reconnect keeps them. */
  private static final Duration TRAFFIC_KEPT = Duration.ofHours(1);

  private final DispatchSettings settings;
  private final TimerScheduler<Command> timers;
  private final PeerBoard board;
  private final Pool pool;
  private final AgentRoster roster;
  private final WaitingRequests waiting;
  private final Peers peers;
  private final Matching matching;
  private final AgentTrafficRegistry traffic;
  private final TrafficStats nodeTraffic;
  private final ActorRef<AgentWorker.Report> reports;

  private Dispatcher(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      DispatchSettings settings,
      AgentTrafficRegistry traffic,
      TrafficStats nodeTraffic) {
    super(context);
    this.timers = timers;
    this.settings = settings;
    this.traffic = traffic;
    this.nodeTraffic = nodeTraffic;
    this.reports = context.messageAdapter(AgentWorker.Report.class, Dispatcher::fromWorker);
    this.board =
        new PeerBoard(settings.peers() == null ? Duration.ZERO : settings.peers().statusInterval());
    this.pool = new Pool(settings.agentDefaults(), settings.passiveHealth(), traffic, board);
    this.roster =
        new AgentRoster(pool, board, context.getLog(), settings.passiveHealth().failures());
    this.waiting = new WaitingRequests(settings.maxPriority(), settings.maxWait().toNanos());
    this.peers =
        settings.peers() == null
            ? new NoPeers(context.getSystem().address().toString())
            : new ClusterPeers(
                context, timers, settings.peers(), pool, waiting, board, this::counted);
    Placement placement =
        new Placement(
            pool,
            board,
            peers,
            new Balancer(RandomGenerator.getDefault()),
            settings.ipHashFallback());
    this.matching =
        new Matching(
            context.getSelf(),
            timers,
            settings,
            pool,
            waiting,
            placement,
            peers,
            nodeTraffic,
            context.getLog());
    timers.startTimerWithFixedDelay(Tick.INSTANCE, TICK);
  }

  /** The dispatcher of a node that runs alone, with the hub's defaults but for the queue bounds. */
  public static Behavior<Command> create(int maxWaiting, Duration maxWait) {
    return create(
        DispatchSettings.alone(maxWaiting, maxWait),
        new AgentTrafficRegistry(),
        new TrafficStats());
  }

  /**
   * A node's dispatcher; when {@code settings.peers()} is set it finds the other nodes' dispatchers
   * and shares its pool with them.
   */
  public static Behavior<Command> create(
      DispatchSettings settings, AgentTrafficRegistry traffic, TrafficStats nodeTraffic) {
    return Behaviors.setup(
        context -> {
          // Named here: found from the stack, the name depends on which handler logs first.
          context.setLoggerName(Dispatcher.class);
          if (settings.peers() != null) {
            ActorRef<Receptionist.Listing> listings =
                context.messageAdapter(Receptionist.Listing.class, PeersListed::new);
            context.getSystem().receptionist().tell(Receptionist.register(KEY, context.getSelf()));
            context.getSystem().receptionist().tell(Receptionist.subscribe(KEY, listings));
            Cluster.get(context.getSystem())
                .subscriptions()
                .tell(
                    Subscribe.create(
                        context.messageAdapter(
                            ClusterEvent.UnreachableMember.class, Unreachable::new),
                        ClusterEvent.UnreachableMember.class));
          }
          return Behaviors.withTimers(
              timers -> new Dispatcher(context, timers, settings, traffic, nodeTraffic));
        });
  }

  /** A worker's report, as the dispatcher's own message. */
  private static Command fromWorker(AgentWorker.Report report) {
    if (report instanceof AgentWorker.Joined m) {
      return new WorkerJoined(m.worker(), m.profile());
    } else if (report instanceof AgentWorker.Idle m) {
      return new WorkerIdle(m.worker(), m.outcome());
    } else if (report instanceof AgentWorker.Left m) {
      return new WorkerLeft(m.worker());
    } else if (report instanceof AgentWorker.Reported m) {
      return new WorkerReported(m.worker(), m.report());
    } else if (report instanceof AgentWorker.Failed m) {
      return new Retry(m.job(), m.failedAgent(), m.error());
    }
    return new Redispatch(((AgentWorker.Bounced) report).job());
  }

  /** A request left the queue for another node. */
  private void counted(Job job, long now) {
    matching.counted(job, now);
  }

  @Override
  public Receive<Command> createReceive() {
    return common(newReceiveBuilder(), new DispatcherState.Serving(matching, peers))
        .onMessage(Dispatch.class, m -> changedAfter(() -> matching.dispatch(m.job(), false)))
        .onMessage(Redispatch.class, m -> changedAfter(() -> matching.dispatch(m.job(), true)))
        .onMessage(Retry.class, m -> changedAfter(() -> matching.retry(m)))
        .onMessage(Lend.class, m -> changedAfter(() -> peers.onLend(m)))
        .onMessage(Offer.class, m -> changedAfter(() -> peers.onOffer(m, true)))
        .onMessage(Drain.class, this::onDrain)
        .build();
  }

  /** The handlers of both states; {@code state} says what differs. */
  ReceiveBuilder<Command> common(ReceiveBuilder<Command> builder, DispatcherState state) {
    return builder
        .onMessage(SpawnWorker.class, this::onSpawnWorker)
        .onMessage(Abandon.class, m -> changedAfter(() -> matching.abandon(m.job())))
        .onMessage(CheckAgentId.class, this::onCheckAgentId)
        .onMessage(WorkerJoined.class, m -> onWorkerJoined(m, state))
        .onMessage(WorkerIdle.class, m -> onWorkerIdle(m, state))
        .onMessage(WorkerReported.class, m -> onWorkerReported(m, state))
        .onMessage(WorkerLeft.class, m -> onWorkerLeft(m, state))
        .onMessage(WorkerStopped.class, m -> forget(m.worker(), state))
        .onMessage(GetStats.class, this::onGetStats)
        .onMessage(GetPool.class, this::onGetPool)
        .onMessage(ListNodes.class, this::onListNodes)
        .onMessage(GetNodeView.class, this::onGetNodeView)
        .onMessage(TokensRevoked.class, m -> sameAfter(() -> roster.revoke(m.tokenIds())))
        .onMessage(DisconnectAgent.class, this::onDisconnectAgent)
        .onMessage(ControlsChanged.class, m -> onControlsChanged(m, state))
        .onMessageEquals(ExpireWaiting.INSTANCE, () -> changedAfter(matching::expire))
        .onMessageEquals(Tick.INSTANCE, () -> onTick(state))
        .onMessage(PeersListed.class, m -> sameAfter(() -> peers.onListed(m.listing())))
        .onMessage(
            Unreachable.class,
            m -> sameAfter(() -> peers.onUnreachable(m.event().member().address())))
        .onMessage(CrossingEnded.class, m -> sameAfter(() -> peers.ended(m.request())))
        .onMessage(PeerStatus.class, m -> onPeerStatus(m, state))
        .onMessage(
            PeerWorkerFree.class,
            m -> sameAfter(() -> board.free(m.peer(), m.worker(), System.nanoTime())))
        .onMessage(LoanReturned.class, m -> onLoanBack(m.loan(), state))
        .onMessage(LoanExpired.class, m -> onLoanBack(m.loan(), state))
        .onMessageEquals(PublishStatus.INSTANCE, () -> sameAfter(peers::publishStatus));
  }

  Behavior<Command> sameAfter(Runnable action) {
    action.run();
    return Behaviors.same();
  }

  /** Runs {@code action}, then schedules telling the other nodes of what changed here. */
  Behavior<Command> changedAfter(Runnable action) {
    action.run();
    return changed();
  }

  Behavior<Command> changed() {
    peers.changed();
    return Behaviors.same();
  }

  // ---- workers ----

  private Behavior<Command> onSpawnWorker(SpawnWorker spawn) {
    String agentId = spawn.profile().agentId();
    getContext()
        .spawnAnonymous(
            AgentWorker.create(
                spawn.profile(),
                reports,
                spawn.settings(),
                traffic.forAgent(agentId),
                spawn.replyTo()));
    return Behaviors.same();
  }

  private Behavior<Command> onCheckAgentId(CheckAgentId check) {
    check.replyTo().tell(roster.holder(check.agentId(), check.tokenId()));
    return Behaviors.same();
  }

  private Behavior<Command> onWorkerJoined(WorkerJoined joined, DispatcherState state) {
    if (!roster.join(joined.worker(), joined.profile())) {
      return Behaviors.same();
    }
    getContext().watchWith(joined.worker(), new WorkerStopped(joined.worker()));
    state.free(joined.worker());
    return changed();
  }

  private Behavior<Command> onWorkerIdle(WorkerIdle idle, DispatcherState state) {
    LocalAgent agent = pool.agentOf(idle.worker());
    if (agent == null) {
      return Behaviors.same(); // it left meanwhile
    }
    roster.judge(agent, idle.outcome());
    state.free(idle.worker());
    return changed();
  }

  private Behavior<Command> onLoanBack(long loan, DispatcherState state) {
    ActorRef<AgentWorker.Command> worker = peers.loanBack(loan);
    if (worker == null) {
      return Behaviors.same();
    }
    state.free(worker);
    return changed();
  }

  private Behavior<Command> onWorkerReported(WorkerReported reported, DispatcherState state) {
    LocalAgent agent = pool.agentOf(reported.worker());
    if (agent == null) {
      return Behaviors.same();
    }
    if (roster.reported(agent, reported.report())) {
      checkAvailability(agent, System.nanoTime(), state);
    }
    return changed();
  }

  /** Lets an agent that takes requests now serve what waits, as the state allows. */
  private void checkAvailability(LocalAgent agent, long now, DispatcherState state) {
    if (roster.available(agent, now)) {
      state.available(agent);
    }
  }

  private Behavior<Command> onWorkerLeft(WorkerLeft left, DispatcherState state) {
    forget(left.worker(), state);
    left.worker().tell(AgentWorker.Released.INSTANCE);
    return Behaviors.same();
  }

  private Behavior<Command> forget(ActorRef<AgentWorker.Command> worker, DispatcherState state) {
    getContext().unwatch(worker);
    peers.forget(worker);
    roster.leave(worker);
    state.left();
    return changed();
  }

  // ---- the operators ----

  private Behavior<Command> onControlsChanged(ControlsChanged changed, DispatcherState state) {
    roster.setControls(changed.controls());
    long now = System.nanoTime();
    for (LocalAgent agent : new ArrayList<>(pool.agents())) {
      checkAvailability(agent, now, state);
    }
    return changed();
  }

  private Behavior<Command> onDisconnectAgent(DisconnectAgent disconnect) {
    disconnect.replyTo().tell(roster.disconnect(disconnect.agentId()));
    return Behaviors.same();
  }

  // ---- time ----

  private Behavior<Command> onTick(DispatcherState state) {
    long now = System.nanoTime();
    for (LocalAgent agent : new ArrayList<>(pool.agents())) {
      checkAvailability(agent, now, state);
    }
    Set<String> present = new HashSet<>();
    pool.agents().forEach(agent -> present.add(agent.id));
    traffic.forgetOlderThan(TRAFFIC_KEPT.toNanos(), now, present);
    return changed(); // usage windows move on: the other nodes see their counts drop
  }

  // ---- the other nodes ----

  private Behavior<Command> onPeerStatus(PeerStatus status, DispatcherState state) {
    peers.onStatus(status);
    long now = System.nanoTime();
    board.update(status.from(), status.agents(), status.waiting(), status.waitingCount(), now);
    roster.ejectedElsewhere(status.agents(), now);
    state.statusArrived(now);
    return changed();
  }

  // ---- views ----

  private Peers.NodeCounts counts() {
    return new Peers.NodeCounts(
        pool.workerCount(), pool.availableIdle(System.nanoTime()), waiting.size());
  }

  private Behavior<Command> onGetStats(GetStats get) {
    Peers.NodeCounts counts = counts();
    get.replyTo().tell(new Stats(counts.workers(), counts.idle(), counts.waiting()));
    return Behaviors.same();
  }

  private Behavior<Command> onListNodes(ListNodes list) {
    List<ActorRef<Command>> all = new ArrayList<>();
    all.add(getContext().getSelf());
    all.addAll(peers.known());
    list.replyTo().tell(new Nodes(all));
    return Behaviors.same();
  }

  private Behavior<Command> onGetNodeView(GetNodeView get) {
    get.replyTo()
        .tell(
            NodeViews.of(
                getContext().getSystem().address().toString(),
                pool,
                waiting.size(),
                nodeTraffic.snapshot(),
                System.nanoTime()));
    return Behaviors.same();
  }

  private Behavior<Command> onGetPool(GetPool get) {
    Set<String> agentIds = new HashSet<>();
    pool.agents().forEach(agent -> agentIds.add(agent.id));
    board.agents().forEach(agent -> agentIds.add(agent.agentId()));
    get.replyTo().tell(new PoolView(peers.nodePools(counts()), agentIds.size()));
    return Behaviors.same();
  }

  // ---- stopping ----

  private Behavior<Command> onDrain(Drain drain) {
    peers.stopOffering();
    matching.refuseAllWaiting(ProxyError.SHUTTING_DOWN);
    return new Draining(getContext(), this, matching, pool, peers).onDrain(drain);
  }
}
