package io.slime.hub.dispatch;

import io.slime.hub.CborSerializable;
import io.slime.hub.cluster.AgentControl;
import io.slime.hub.cluster.AgentSummary;
import io.slime.hub.cluster.ForwardedRequest;
import io.slime.hub.cluster.PeerBoard;
import io.slime.hub.cluster.PeerHttp;
import io.slime.hub.cluster.PeerRequest;
import io.slime.hub.cluster.RemoteRequest;
import io.slime.hub.cluster.Waiter;
import io.slime.hub.http.ProxyError;
import io.slime.hub.limit.RetryBudget;
import io.slime.hub.policy.Balancer;
import io.slime.hub.policy.Policy;
import io.slime.hub.stats.AgentTrafficRegistry;
import io.slime.hub.stats.TrafficStats;
import io.slime.hub.worker.AgentWorker;
import io.slime.shared.agent.AgentReport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.random.RandomGenerator;
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
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * Gives each application request to exactly one idle worker. Holds this node's agents and their
 * workers ({@link Pool}) and the requests waiting with {@code Slime-Block: 1} ({@link
 * WaitingRequests}: by priority, then first come, first served), and matches them the moment either
 * side arrives: no polling. Among several idle workers the request's {@link Policy} chooses, across
 * the cluster. One per hub node.
 *
 * <p>Talks to: the front door ({@link Dispatch}, {@link Abandon}); {@link AgentWorker}s, which
 * report {@link WorkerJoined}, {@link WorkerIdle}, {@link WorkerReported}, {@link Retry} and {@link
 * WorkerLeft} and receive {@link AgentWorker.Assign}; the dispatchers of other nodes ({@link
 * PeerStatus}, {@link Offer}, {@link Lend}); and the admin API. A leaving worker is answered {@link
 * AgentWorker.Released} only after the dispatcher forgot it, so an assignment already on its way is
 * bounced back, never lost.
 */
public final class Dispatcher extends AbstractBehavior<Dispatcher.Command> {

  public sealed interface Command {}

  /** An application request looking for a worker. */
  public record Dispatch(Exchange exchange) implements Command {}

  /** The application of a waiting request went away. */
  public record Abandon(Exchange exchange) implements Command {}

  /** A worker could not take an assignment (its connection closed); serve the request first. */
  public record Redispatch(Exchange exchange) implements Command {}

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

  /** A worker connection opened and is idle. */
  public record WorkerJoined(ActorRef<AgentWorker.Command> worker, WorkerProfile profile)
      implements Command, CborSerializable {}

  /** How a worker's exchange ended, for the hub's judgement of its agent's health. */
  public enum Outcome {
    /** The upstream answered below 500. */
    SUCCESS,
    /** The upstream answered 5xx. */
    SERVER_ERROR,
    /** The agent could not get an answer: the upstream was unreachable, timed out or broke off. */
    FAILED,
    /** Nothing to judge by: the application went away. */
    NEUTRAL
  }

  /** A worker finished its request and is idle again. */
  public record WorkerIdle(ActorRef<AgentWorker.Command> worker, Outcome outcome)
      implements Command, CborSerializable {
    public WorkerIdle(ActorRef<AgentWorker.Command> worker) {
      this(worker, Outcome.NEUTRAL);
    }
  }

  /** A worker's connection closed; it is answered {@link AgentWorker.Released}. */
  public record WorkerLeft(ActorRef<AgentWorker.Command> worker)
      implements Command, CborSerializable {}

  /** A worker passed on its agent's report (its upstream's health, its machine's load). */
  public record WorkerReported(ActorRef<AgentWorker.Command> worker, AgentReport report)
      implements Command {}

  /**
   * A worker failed {@code exchange} before any of the answer reached the application: try it once
   * more on another worker if it may be, else answer {@code error}. Sent while the failed worker
   * still counts busy, so it is never the one chosen.
   */
  public record Retry(Exchange exchange, String failedAgent, HttpResponse error)
      implements Command {}

  /**
   * The hub is stopping: waiting and new requests are answered 503 shutting-down; {@code replyTo}
   * hears once no worker is busy any more.
   */
  public record Drain(ActorRef<Done> replyTo) implements Command {}

  /** Asks for the current counts. */
  public record GetStats(ActorRef<Stats> replyTo) implements Command, CborSerializable {}

  /** This node's workers, its idle ones that take requests now, and its waiting requests. */
  public record Stats(int workers, int idle, int waiting) implements CborSerializable {}

  /**
   * Another node's request for one of this node's idle workers: the one lent for it when {@code
   * loan} is not 0, else one of {@code agentId}'s (any agent's when null). Answered to {@code
   * origin}: accepted by a {@link PeerRequest}, or declined.
   */
  public record Offer(
      RemoteRequest request, ActorRef<ForwardedRequest.Command> origin, long loan, String agentId)
      implements Command, CborSerializable {}

  /** Another node's pool as it is now; see {@link PeerBoard}. */
  public record PeerStatus(
      ActorRef<Command> from, List<AgentSummary> agents, List<Waiter> waiting, int waitingCount)
      implements Command, CborSerializable {}

  /**
   * Another node holds one of its idle workers for this node's first waiting request that the
   * worker accepts: offer it one (quoting {@code loan}) or return the loan. {@code rival} is the
   * lender's own first waiting request for the worker, null when it has none: the loan is for a
   * request served before it. The lender's view of this node's queue can be a status interval old,
   * and a request it lent for may already be served.
   */
  public record Lend(ActorRef<Command> lender, long loan, WorkerProfile profile, Waiter rival)
      implements Command, CborSerializable {}

  /** The borrower had no waiting request for a lent worker after all. */
  public record LoanReturned(long loan) implements Command, CborSerializable {}

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
      implements Command, CborSerializable {}

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
  public record GetNodeView(ActorRef<NodeView> replyTo) implements Command, CborSerializable {}

  /** Dispatchers of all hub nodes register under this key. */
  public static final ServiceKey<Command> KEY =
      ServiceKey.create(Command.class, "slime-dispatcher");

  private record PeersListed(Receptionist.Listing listing) implements Command {}

  private record Unreachable(ClusterEvent.UnreachableMember event) implements Command {}

  private record ForwardedEnded(ActorRef<ForwardedRequest.Command> request) implements Command {}

  private record PeerRequestEnded(ActorRef<PeerRequest.Command> request) implements Command {}

  private record LoanExpired(long loan) implements Command {}

  /** A worker stopped; normally after WorkerLeft, this also covers one that crashed. */
  private record WorkerStopped(ActorRef<AgentWorker.Command> worker) implements Command {}

  private enum PublishStatus implements Command {
    INSTANCE
  }

  private enum ExpireWaiting implements Command {
    INSTANCE
  }

  /** Once a second: ejections that end, limit windows that free, counters to forget. */
  private enum Tick implements Command {
    INSTANCE
  }

  private record Loan(ActorRef<AgentWorker.Command> worker, WorkerProfile profile) {}

  /** Where a request goes: one of this node's workers, or an agent at another node. */
  private record Pick(
      ActorRef<AgentWorker.Command> worker, ActorRef<Command> peer, String agentId) {}

  /** How long a lent worker is held for the borrower before it is idle here again. */
  private static final Duration LOAN_TIMEOUT = Duration.ofSeconds(3);

  /** How many of its first waiting requests a node tells the others about. */
  private static final int WAITERS_SHOWN = 32;

  private static final Duration TICK = Duration.ofSeconds(1);

  /** How long an agent's counters outlive it, so a reconnect keeps them. */
  private static final Duration TRAFFIC_KEPT = Duration.ofHours(1);

  private final DispatchSettings settings;
  private final TimerScheduler<Command> timers;
  private final PeerBoard board;
  private final Pool pool;
  private final SlotChurn slotChurn = new SlotChurn();
  private final WaitingRequests waiting;
  private final AgentTrafficRegistry traffic;
  private final TrafficStats nodeTraffic;
  private final Balancer balancer;
  private final RetryBudget retryBudget;
  private List<ActorRef<Done>> drainedReplies; // null until the hub starts stopping

  // Cluster only; settings.peers() is null on a node that runs alone.
  private final Set<ActorRef<Command>> peers = new HashSet<>();
  private final Map<Long, Loan> loans = new HashMap<>();
  // Requests crossing nodes, by the node at the other end: failed at once if it becomes
  // unreachable.
  private final Map<ActorRef<ForwardedRequest.Command>, Address> forwarded = new HashMap<>();
  private final Map<ActorRef<PeerRequest.Command>, Address> servedForPeers = new HashMap<>();
  private long lastLoan;

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
    this.board =
        new PeerBoard(settings.peers() == null ? Duration.ZERO : settings.peers().statusInterval());
    this.pool = new Pool(settings.agentDefaults(), settings.passiveHealth(), traffic, board);
    this.waiting = new WaitingRequests(settings.maxPriority(), settings.maxWait().toNanos());
    this.balancer = new Balancer(RandomGenerator.getDefault());
    this.retryBudget =
        new RetryBudget(
            settings.retries().budgetPercent(), settings.retries().budgetMinPerSecond());
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

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Dispatch.class, m -> onDispatch(m.exchange(), false))
        .onMessage(Redispatch.class, m -> onDispatch(m.exchange(), true))
        .onMessage(Abandon.class, this::onAbandon)
        .onMessage(CheckAgentId.class, this::onCheckAgentId)
        .onMessage(WorkerJoined.class, this::onWorkerJoined)
        .onMessage(WorkerIdle.class, this::onWorkerIdle)
        .onMessage(WorkerReported.class, this::onWorkerReported)
        .onMessage(Retry.class, this::onRetry)
        .onMessage(WorkerLeft.class, this::onWorkerLeft)
        .onMessage(WorkerStopped.class, m -> forget(m.worker()))
        .onMessage(GetStats.class, this::onGetStats)
        .onMessage(GetPool.class, this::onGetPool)
        .onMessage(ListNodes.class, this::onListNodes)
        .onMessage(GetNodeView.class, this::onGetNodeView)
        .onMessage(TokensRevoked.class, this::onTokensRevoked)
        .onMessage(DisconnectAgent.class, this::onDisconnectAgent)
        .onMessage(ControlsChanged.class, this::onControlsChanged)
        .onMessage(Drain.class, this::onDrain)
        .onMessageEquals(ExpireWaiting.INSTANCE, this::onExpireWaiting)
        .onMessageEquals(Tick.INSTANCE, this::onTick)
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
              board.free(m.peer(), m.worker(), System.nanoTime());
              return this;
            })
        .onMessage(LoanReturned.class, m -> onLoanBack(m.loan()))
        .onMessage(LoanExpired.class, m -> onLoanBack(m.loan()))
        .onMessageEquals(PublishStatus.INSTANCE, this::onPublishStatus)
        .build();
  }

  // ---- requests ----

  private Behavior<Command> onDispatch(Exchange exchange, boolean first) {
    if (exchange.isGone()) {
      exchange.finish(); // frees its --concurrent slot
      return this;
    }
    if (drainedReplies != null) {
      reject(exchange, ProxyError.SHUTTING_DOWN);
      return this;
    }
    long now = System.nanoTime();
    Pick pick = choose(exchange, null, now);
    if (pick != null) {
      send(exchange, pick, now);
      return changed();
    }
    if (!exchange.blocks()) {
      rejectUnserved(exchange, now);
    } else if (waiting.size() >= settings.maxWaiting()) {
      reject(exchange, ProxyError.QUEUE_FULL);
    } else {
      enqueue(exchange, first);
    }
    return changed();
  }

  /**
   * Where {@code exchange} goes now, by its policy, among the idle workers that accept it here and
   * at other nodes (not {@code avoidAgent}'s); null when none can take it. An ip-hash request whose
   * agent is busy is pinned to that agent when the fallback is to wait.
   */
  private Pick choose(Exchange exchange, String avoidAgent, long now) {
    Demand demand = exchange.demand();
    Policy policy = exchange.traits().policy();
    if (policy == Policy.IP_HASH && demand.pinnedAgent() == null) {
      String owner = ipHashOwner(exchange, now);
      if (owner != null) {
        Pick pick = chooseAmong(Policy.FIFO, demand.pinnedTo(owner), avoidAgent, now);
        if (pick != null || settings.ipHashFallback() == null) {
          if (pick == null) {
            exchange.pin(owner);
          }
          return pick;
        }
      }
      policy = settings.ipHashFallback() == null ? Policy.FIFO : settings.ipHashFallback();
    }
    return chooseAmong(policy, demand, avoidAgent, now);
  }

  /** The agent a client belongs to: of those available that accept its request, anywhere. */
  private String ipHashOwner(Exchange exchange, long now) {
    Demand demand = exchange.demand();
    Set<String> agents = new HashSet<>();
    for (LocalAgent agent : pool.agents()) {
      if (agent.profile.accepts(demand) && available(pool.unavailable(agent, now))) {
        agents.add(agent.id);
      }
    }
    for (AgentSummary agent : board.agents()) {
      if (agent.accepts(demand) && available(agent.unavailable())) {
        agents.add(agent.agentId());
      }
    }
    return io.slime.hub.policy.RendezvousHash.owner(exchange.traits().clientIp(), agents);
  }

  /** Busy and limited agents still own their clients; the others are out of the hash. */
  private static boolean available(String unavailable) {
    return unavailable == null || unavailable.equals("limited");
  }

  private Pick chooseAmong(Policy policy, Demand demand, String avoidAgent, long now) {
    if (policy == Policy.FIFO) {
      // The common case, kept cheap: the longest-idle worker here, else any node's.
      ActorRef<AgentWorker.Command> worker = pool.firstIdle(demand, avoidAgent, now);
      if (worker != null) {
        return new Pick(worker, null, null);
      }
      for (PeerBoard.PeerAgent remote :
          settings.peers() == null ? List.<PeerBoard.PeerAgent>of() : board.idleFor(demand)) {
        if (!remote.agent().agentId().equals(avoidAgent)) {
          return new Pick(null, remote.peer(), remote.agent().agentId());
        }
      }
      return null;
    }
    List<Candidate> candidates = candidates(demand, avoidAgent, now);
    if (candidates.isEmpty()) {
      return null;
    }
    Candidate chosen = candidates.get(balancer.pick(policy, candidates));
    return chosen.local != null
        ? new Pick(pool.idleOf(chosen.local), null, null)
        : new Pick(null, chosen.peers.get(0), chosen.agentId);
  }

  /**
   * An agent with an idle worker for a request, here ({@code local}) or at other nodes, and what
   * the policies weigh, counted across the cluster.
   */
  private static final class Candidate implements io.slime.hub.policy.Choice {
    final String agentId;
    LocalAgent local;
    final List<ActorRef<Command>> peers = new ArrayList<>(1);
    double weight;
    double ramp = 1;
    int busy;
    int workers;
    double latencyMs;
    double load;
    long idleSince = Long.MAX_VALUE;

    Candidate(String agentId) {
      this.agentId = agentId;
    }

    @Override
    public String agentId() {
      return agentId;
    }

    @Override
    public double weight() {
      return weight;
    }

    @Override
    public int busy() {
      return busy;
    }

    @Override
    public int workers() {
      return workers;
    }

    @Override
    public double latencyMs() {
      return latencyMs;
    }

    @Override
    public double load() {
      return load;
    }

    @Override
    public long idleSinceNanos() {
      return idleSince;
    }

    @Override
    public double ramp() {
      return ramp;
    }
  }

  private List<Candidate> candidates(Demand demand, String avoidAgent, long now) {
    Map<String, Candidate> byAgent = new HashMap<>();
    for (LocalAgent agent : pool.agents()) {
      if (!agent.idle.isEmpty()
          && !agent.id.equals(avoidAgent)
          && agent.profile.accepts(demand)
          && pool.unavailable(agent, now) == null) {
        Candidate c = byAgent.computeIfAbsent(agent.id, Candidate::new);
        c.local = agent;
        c.weight = pool.weight(agent);
        c.ramp = agent.health.ramp(now);
        c.latencyMs = agent.traffic.latencyMs();
        c.load = agent.report.load();
        c.idleSince = pool.idleSince(pool.idleOf(agent));
      }
    }
    if (settings.peers() != null) {
      for (PeerBoard.PeerAgent remote : board.idleFor(demand)) {
        AgentSummary agent = remote.agent();
        if (agent.agentId().equals(avoidAgent)) {
          continue;
        }
        Candidate c = byAgent.get(agent.agentId());
        if (c == null) {
          c = new Candidate(agent.agentId());
          byAgent.put(agent.agentId(), c);
          c.weight = agent.weight();
          c.ramp = agent.ramp();
          c.latencyMs = agent.latencyMs();
          c.load = agent.load();
        }
        c.peers.add(remote.peer());
      }
    }
    // Busy and total workers of each candidate, on every node.
    for (Candidate c : byAgent.values()) {
      if (c.local != null) {
        c.busy += c.local.busy();
        c.workers += c.local.workers.size();
      }
    }
    for (AgentSummary agent : board.agents()) {
      Candidate c = byAgent.get(agent.agentId());
      if (c != null) {
        c.busy += agent.busy();
        c.workers += agent.workers();
      }
    }
    return new ArrayList<>(byAgent.values());
  }

  /** Hands a new request to the worker or the node {@code pick} names. */
  private void send(Exchange exchange, Pick pick, long now) {
    counted(exchange, now);
    deliver(exchange, pick, now);
  }

  /** A request leaves the queue (or skips it): its wait, and one more for the retry budget. */
  private void counted(Exchange exchange, long now) {
    nodeTraffic.waited(now - exchange.createdNanos());
    retryBudget.recordRequest(now);
  }

  private void deliver(Exchange exchange, Pick pick, long now) {
    if (pick.worker() != null) {
      assign(pick.worker(), exchange, now);
    } else {
      board.take(pick.peer(), pick.agentId());
      forward(exchange, pick.peer(), 0, pick.agentId());
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
    exchange.whenGone(() -> getContext().getSelf().tell(new Abandon(exchange)));
    scheduleExpiry();
  }

  /** The answer for a request that does not wait and found no worker free to take it. */
  private void rejectUnserved(Exchange exchange, long now) {
    Demand demand = exchange.demand();
    boolean any = false;
    boolean busyOrAvailable = false;
    long limitedFreesIn = Long.MAX_VALUE;
    Unserved why = new Unserved();
    // Whether some agent would take the request if it selected no labels.
    Demand unselected = new Demand(demand.scope(), demand.path(), Map.of(), demand.pinnedAgent());
    boolean selecting = !demand.select().isEmpty();
    boolean labelsAreTheCause = false;
    for (LocalAgent agent : pool.agents()) {
      if (!agent.profile.accepts(demand)) {
        labelsAreTheCause |= selecting && agent.profile.accepts(unselected);
        continue;
      }
      any = true;
      String unavailable = pool.unavailable(agent, now);
      if (unavailable == null) {
        busyOrAvailable = true;
      } else if (unavailable.equals("limited")) {
        limitedFreesIn = Math.min(limitedFreesIn, agent.traffic.untilWindowDrops(now));
      } else {
        why.unavailable(agent.profile.agentName(), unavailable);
      }
    }
    for (AgentSummary agent : board.agents()) {
      if (agent.workers() > 0 && agent.accepts(demand)) {
        any = true;
        if (agent.unavailable() == null) {
          busyOrAvailable = true;
        } else if (agent.unavailable().equals("limited")) {
          limitedFreesIn = Math.min(limitedFreesIn, Duration.ofSeconds(1).toNanos());
        } else {
          why.unavailable(agent.name(), agent.unavailable());
        }
      } else if (agent.workers() > 0) {
        labelsAreTheCause |= selecting && agent.accepts(unselected);
      }
    }
    if (busyOrAvailable) {
      reject(exchange, ProxyError.ALL_BUSY);
    } else if (limitedFreesIn != Long.MAX_VALUE) {
      long seconds = Math.max(1, (limitedFreesIn + 999_999_999) / 1_000_000_000);
      respond(exchange, ProxyError.AGENT_LIMIT.response(ProxyError.AGENT_LIMIT.reason(), seconds));
    } else if (any) {
      respond(exchange, ProxyError.NO_AVAILABLE_WORKER.response(why.noneAvailable()));
    } else if (pool.isEmpty() && !board.anyWorker()) {
      reject(exchange, ProxyError.NO_AGENT);
    } else if (labelsAreTheCause) {
      respond(exchange, ProxyError.NO_MATCHING_WORKER.response(Unserved.noLabels(demand.select())));
    } else {
      reject(exchange, ProxyError.NO_MATCHING_WORKER);
    }
  }

  private Behavior<Command> onAbandon(Abandon abandon) {
    // Only a queued exchange registers this callback, so it is in the queue (maybe not for long).
    if (waiting.remove(abandon.exchange())) {
      abandon.exchange().finish(); // frees its --concurrent slot
      getContext().getLog().debug("Waiting request left: its client went away");
    }
    return changed();
  }

  private Behavior<Command> onRetry(Retry retry) {
    Exchange exchange = retry.exchange();
    if (exchange.isGone()) {
      exchange.finish();
      return this;
    }
    long now = System.nanoTime();
    Pick pick = null;
    if (drainedReplies == null && mayRetry(exchange) && retryBudget.tryRetry(now)) {
      // Another agent if one is free, else another worker of the same agent.
      pick = choose(exchange, retry.failedAgent(), now);
      if (pick == null) {
        pick = choose(exchange, null, now);
      }
    }
    if (pick == null) {
      exchange.respond(retry.error());
      exchange.finish();
      return this;
    }
    exchange.markRetried();
    nodeTraffic.retried();
    getContext()
        .getLog()
        .debug(
            "Retrying {} {} after agent [{}] failed it",
            exchange.method(),
            exchange.target(),
            retry.failedAgent());
    deliver(exchange, pick, now);
    return changed();
  }

  /** Idempotent by configuration, whole in memory, and not tried twice already. */
  private boolean mayRetry(Exchange exchange) {
    return !exchange.retried()
        && settings.retries().methods().contains(exchange.method())
        && exchange.entity() instanceof HttpEntity.Strict;
  }

  // ---- workers ----

  private Behavior<Command> onCheckAgentId(CheckAgentId check) {
    check.replyTo().tell(holder(check.agentId(), check.tokenId()));
    return this;
  }

  /** Whether another token than {@code tokenId} holds {@code agentId}: here, then elsewhere. */
  private AgentIdAnswer holder(String agentId, long tokenId) {
    LocalAgent local = pool.agent(agentId);
    if (local != null) {
      WorkerProfile held = local.profile;
      return held.tokenId() == tokenId
          ? AgentIdFree.INSTANCE
          : new AgentIdTaken(held.agentName(), held.tokenId(), "this node");
    }
    PeerBoard.PeerAgent remote = board.heldByOtherToken(agentId, tokenId);
    return remote == null
        ? AgentIdFree.INSTANCE
        : new AgentIdTaken(
            remote.agent().name(),
            remote.agent().tokenId(),
            "hub node " + remote.peer().path().address());
  }

  private Behavior<Command> onWorkerJoined(WorkerJoined joined) {
    WorkerProfile profile = joined.profile();
    if (holder(profile.agentId(), profile.tokenId()) instanceof AgentIdTaken taken) {
      // Another token's worker joined between this one's check and its upgrade: it keeps the id.
      getContext()
          .getLog()
          .warn(
              "Agent id [{}] worker [{}]: token [{}] ({}) may not take the slots of token [{}] ({})"
                  + " at {}; closing its connection",
              profile.agentId(),
              profile.workerIndex(),
              profile.agentName(),
              profile.tokenId(),
              taken.tokenName(),
              taken.tokenId(),
              taken.node());
      joined.worker().tell(AgentWorker.Disconnect.INSTANCE);
      return this;
    }
    Pool.Joined result = pool.join(joined.worker(), profile);
    if (result.replaced() != null) {
      getContext()
          .getLog()
          .info(
              "Agent [{}] id [{}] worker [{}] reconnected; replacing its old connection",
              profile.agentName(),
              profile.agentId(),
              profile.workerIndex());
      result.replaced().tell(AgentWorker.Replace.INSTANCE);
      int churn =
          slotChurn.replaced(profile.agentId(), result.agent().workers.size(), System.nanoTime());
      if (churn > 0) {
        getContext()
            .getLog()
            .warn(
                "Agent [{}] id [{}]: its workers' connections were replaced {} times in the last"
                    + " minute; two agent processes probably share this id and replace each other."
                    + " Give each its own --agentID, or leave it unset so each derives its own",
                profile.agentName(),
                profile.agentId(),
                churn);
      }
    }
    getContext().watchWith(joined.worker(), new WorkerStopped(joined.worker()));
    if (result.newAgent()) {
      getContext()
          .getLog()
          .info("Agent [{}] id [{}] joined", profile.agentName(), profile.agentId());
    }
    return workerFree(joined.worker());
  }

  private Behavior<Command> onWorkerIdle(WorkerIdle idle) {
    LocalAgent agent = pool.agentOf(idle.worker());
    if (agent == null) {
      return this; // it left meanwhile
    }
    judge(agent, idle.outcome());
    return workerFree(idle.worker());
  }

  /** The hub's judgement of an agent's health from how its requests end. */
  private void judge(LocalAgent agent, Outcome outcome) {
    switch (outcome) {
      case SUCCESS -> agent.health.success();
      case SERVER_ERROR -> {
        if (agent.health.counts5xx()) {
          failed(agent);
        } else {
          agent.health.success();
        }
      }
      case FAILED -> failed(agent);
      case NEUTRAL -> {}
    }
  }

  private void failed(LocalAgent agent) {
    long now = System.nanoTime();
    if (agent.health.failure(now)) {
      agent.traffic.stats().error("ejected");
      getContext()
          .getLog()
          .warn(
              "Agent [{}] id [{}] ejected for {} ms after {} failures in a row",
              agent.profile.agentName(),
              agent.id,
              (agent.health.ejectedUntilNanos() - now) / 1_000_000,
              settings.passiveHealth().failures());
    }
  }

  /** A worker is free: it serves the first waiting request it may, here or elsewhere, or idles. */
  private Behavior<Command> workerFree(ActorRef<AgentWorker.Command> worker) {
    long now = System.nanoTime();
    LocalAgent agent = pool.agentOf(worker);
    if (agent == null) {
      return this;
    }
    if (drainedReplies != null || pool.unavailable(agent, now) != null) {
      pool.markIdle(worker, now);
      replyIfDrained();
      return changed();
    }
    WorkerProfile profile = pool.profile(worker);
    Exchange local = waiting.first(e -> profile.accepts(e.demand()));
    PeerBoard.PeerWaiter remote = settings.peers() == null ? null : board.firstWaiter(profile);
    // Across the cluster: the higher priority first, then whoever waited longer.
    if (remote != null
        && (local == null
            || remote.waiter().before(local.traits().priority(), sinceMillis(local)))) {
      lend(worker, profile, remote, waiterOf(local));
    } else if (local != null) {
      waiting.remove(local);
      local.whenGone(() -> {}); // the worker takes over listening
      counted(local, now);
      assign(worker, local, now);
    } else {
      pool.markIdle(worker, now);
    }
    return changed();
  }

  /**
   * Lets an available agent's idle workers take what waits for them, here or elsewhere: after it
   * took nothing for a while (drained, unhealthy, ejected, at its limit), requests that arrived
   * meanwhile may be waiting.
   */
  private void serveWaiting(LocalAgent agent) {
    for (ActorRef<AgentWorker.Command> worker : new ArrayList<>(agent.idle)) {
      WorkerProfile profile = pool.profile(worker);
      boolean work =
          waiting.first(e -> profile.accepts(e.demand())) != null
              || (settings.peers() != null && board.firstWaiter(profile) != null);
      if (!work) {
        return;
      }
      pool.markBusy(worker);
      workerFree(worker);
    }
  }

  private Behavior<Command> onWorkerReported(WorkerReported reported) {
    LocalAgent agent = pool.agentOf(reported.worker());
    if (agent == null) {
      return this;
    }
    AgentReport before = agent.report;
    agent.report = reported.report();
    if (before.healthy() != agent.report.healthy()) {
      if (agent.report.healthy()) {
        getContext()
            .getLog()
            .info(
                "Agent [{}] id [{}] reports its upstream healthy again",
                agent.profile.agentName(),
                agent.id);
      } else {
        getContext()
            .getLog()
            .warn(
                "Agent [{}] id [{}] reports its upstream unhealthy: {}; it takes no requests",
                agent.profile.agentName(),
                agent.id,
                agent.report.healthDetail());
      }
      checkAvailability(agent, System.nanoTime());
    }
    return changed();
  }

  /** Logs an agent's return from an ejection and lets it serve what waits once it may. */
  private void checkAvailability(LocalAgent agent, long now) {
    String unavailable = pool.unavailable(agent, now);
    if (agent.health.readmitted()) {
      getContext()
          .getLog()
          .info(
              "Agent [{}] id [{}] readmitted after its ejection (slow start)",
              agent.profile.agentName(),
              agent.id);
    }
    if (unavailable == null && drainedReplies == null) {
      serveWaiting(agent);
    }
  }

  private Behavior<Command> onWorkerLeft(WorkerLeft left) {
    forget(left.worker());
    left.worker().tell(AgentWorker.Released.INSTANCE);
    return this;
  }

  private Behavior<Command> forget(ActorRef<AgentWorker.Command> worker) {
    getContext().unwatch(worker);
    loans.values().removeIf(loan -> loan.worker().equals(worker));
    LocalAgent gone = pool.leave(worker);
    if (gone != null) {
      getContext().getLog().info("Agent [{}] id [{}] left", gone.profile.agentName(), gone.id);
      slotChurn.forget(gone.id);
    }
    replyIfDrained();
    return changed();
  }

  // ---- the operators ----

  private Behavior<Command> onControlsChanged(ControlsChanged changed) {
    Map<String, AgentControl> before = pool.controls();
    pool.setControls(changed.controls());
    long now = System.nanoTime();
    for (LocalAgent agent : pool.agents()) {
      AgentControl was = before.getOrDefault(agent.id, AgentControl.NONE);
      AgentControl is = pool.control(agent.id);
      if (!was.equals(is)) {
        getContext()
            .getLog()
            .info(
                "Agent [{}] id [{}] settings now: draining {}, weight {}, rpm {}, bpm {}",
                agent.profile.agentName(),
                agent.id,
                is.draining(),
                pool.weight(agent),
                pool.terms(agent).rpm(),
                pool.terms(agent).bpm());
      }
      checkAvailability(agent, now);
    }
    return changed();
  }

  private Behavior<Command> onTokensRevoked(TokensRevoked revoked) {
    pool.workers()
        .forEach(
            (worker, profile) -> {
              if (revoked.tokenIds().contains(profile.tokenId())) {
                getContext()
                    .getLog()
                    .info(
                        "Agent [{}] id [{}] worker [{}] disconnected: its token was revoked",
                        profile.agentName(),
                        profile.agentId(),
                        profile.workerIndex());
                worker.tell(AgentWorker.Disconnect.INSTANCE);
              }
            });
    return this;
  }

  private Behavior<Command> onDisconnectAgent(DisconnectAgent disconnect) {
    LocalAgent agent = pool.agent(disconnect.agentId());
    int count = agent == null ? 0 : agent.workers.size();
    if (agent != null) {
      agent.workers.forEach(worker -> worker.tell(AgentWorker.Disconnect.INSTANCE));
      getContext()
          .getLog()
          .info(
              "Agent id [{}]: {} worker connection(s) closed by the admin API",
              disconnect.agentId(),
              count);
    }
    disconnect.replyTo().tell(count);
    return this;
  }

  // ---- time ----

  private Behavior<Command> onTick() {
    long now = System.nanoTime();
    for (LocalAgent agent : new ArrayList<>(pool.agents())) {
      checkAvailability(agent, now);
    }
    Set<String> present = new HashSet<>();
    pool.agents().forEach(agent -> present.add(agent.id));
    traffic.forgetOlderThan(TRAFFIC_KEPT.toNanos(), now, present);
    return changed(); // usage windows move on: the other nodes see their counts drop
  }

  private Behavior<Command> onExpireWaiting() {
    for (Exchange expired : waiting.takeExpired(System.nanoTime())) {
      if (expired.isGone()) {
        expired.finish(); // frees its --concurrent slot
      } else {
        reject(expired, ProxyError.WAIT_TIMEOUT);
      }
    }
    scheduleExpiry();
    return changed();
  }

  /** Wakes up at the earliest deadline of a waiting request. */
  private void scheduleExpiry() {
    if (waiting.isEmpty()) {
      timers.cancel(ExpireWaiting.INSTANCE);
      return;
    }
    long dueIn = waiting.nextDeadlineNanos() - System.nanoTime();
    timers.startSingleTimer(
        ExpireWaiting.INSTANCE, Duration.ofNanos(Math.max(dueIn, 0) + 1_000_000));
  }

  // ---- stopping ----

  private Behavior<Command> onDrain(Drain drain) {
    if (drainedReplies == null) {
      drainedReplies = new ArrayList<>();
      for (Exchange exchange : waiting.clear()) {
        if (exchange.isGone()) {
          exchange.finish();
        } else {
          reject(exchange, ProxyError.SHUTTING_DOWN);
        }
      }
    }
    drainedReplies.add(drain.replyTo());
    replyIfDrained();
    return changed();
  }

  private void replyIfDrained() {
    if (drainedReplies != null && pool.busyCount() == 0 && !drainedReplies.isEmpty()) {
      // Nothing left to serve here: the agents move to the other nodes (or wait for this one).
      pool.workers().keySet().forEach(worker -> worker.tell(AgentWorker.Disconnect.INSTANCE));
      drainedReplies.forEach(replyTo -> replyTo.tell(Done.getInstance()));
      drainedReplies.clear();
    }
  }

  // ---- views ----

  private Behavior<Command> onGetStats(GetStats get) {
    get.replyTo()
        .tell(new Stats(pool.workerCount(), pool.availableIdle(System.nanoTime()), waiting.size()));
    return this;
  }

  private Behavior<Command> onListNodes(ListNodes list) {
    List<ActorRef<Command>> all = new ArrayList<>();
    all.add(getContext().getSelf());
    all.addAll(peers);
    list.replyTo().tell(new Nodes(all));
    return this;
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
    return this;
  }

  private Behavior<Command> onGetPool(GetPool get) {
    long now = System.nanoTime();
    Set<String> agentIds = new HashSet<>();
    pool.agents().forEach(agent -> agentIds.add(agent.id));
    board.agents().forEach(agent -> agentIds.add(agent.agentId()));
    List<NodePool> nodes = new ArrayList<>();
    int idle = pool.availableIdle(now);
    if (settings.peers() == null) {
      nodes.add(
          new NodePool(
              getContext().getSystem().address().toString(),
              "Up",
              true,
              pool.workerCount(),
              idle,
              waiting.size()));
    } else {
      Map<Address, PeerBoard.Summary> known = board.summaries();
      Address selfAddress = Cluster.get(getContext().getSystem()).selfMember().address();
      for (Member member : Cluster.get(getContext().getSystem()).state().getMembers()) {
        Address address = member.address();
        boolean self = address.equals(selfAddress);
        PeerBoard.Summary summary =
            self
                ? new PeerBoard.Summary(pool.workerCount(), idle, waiting.size())
                : known.getOrDefault(address, new PeerBoard.Summary(0, 0, 0));
        nodes.add(
            new NodePool(
                address.toString(),
                member.status().toString(),
                self,
                summary.workers(),
                summary.idle(),
                summary.waiting()));
      }
    }
    get.replyTo().tell(new PoolView(nodes, agentIds.size()));
    return this;
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
   * A node stopped answering: offer it nothing more, fail the requests it serves for this node (502
   * at once rather than when it is finally removed) and cancel those this node serves for it.
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
    long now = System.nanoTime();
    board.update(status.from(), status.agents(), status.waiting(), status.waitingCount(), now);
    long nowMillis = System.currentTimeMillis();
    for (AgentSummary remote : status.agents()) {
      LocalAgent agent = pool.agent(remote.agentId());
      if (agent != null && remote.ejectedUntilMillis() > nowMillis) {
        // Ejected there: out here too, so the agent is treated the same on every node.
        agent.health.ejectedElsewhere(
            now + (remote.ejectedUntilMillis() - nowMillis) * 1_000_000, now);
      }
    }
    if (drainedReplies != null) {
      return this;
    }
    // Idle workers here, requests waiting there: lend them, first in serving order first.
    for (LocalAgent agent : new ArrayList<>(pool.agents())) {
      if (agent.idle.isEmpty() || pool.unavailable(agent, now) != null) {
        continue;
      }
      for (ActorRef<AgentWorker.Command> worker : new ArrayList<>(agent.idle)) {
        WorkerProfile profile = pool.profile(worker);
        PeerBoard.PeerWaiter remote = board.firstWaiter(profile);
        if (remote == null) {
          break;
        }
        pool.markBusy(worker);
        lend(worker, profile, remote, null);
      }
    }
    return changed();
  }

  private void lend(
      ActorRef<AgentWorker.Command> worker,
      WorkerProfile profile,
      PeerBoard.PeerWaiter remote,
      Waiter rival) {
    long loan = ++lastLoan;
    loans.put(loan, new Loan(worker, profile));
    board.remove(remote);
    timers.startSingleTimer(new LoanExpired(loan), new LoanExpired(loan), LOAN_TIMEOUT);
    remote.peer().tell(new Lend(getContext().getSelf(), loan, profile, rival));
  }

  private Behavior<Command> onLend(Lend lend) {
    Exchange exchange =
        drainedReplies == null ? waiting.first(e -> lend.profile().accepts(e.demand())) : null;
    if (exchange != null
        && lend.rival() != null
        && lend.rival().before(exchange.traits().priority(), sinceMillis(exchange))) {
      exchange = null; // the lender's own request comes first
    }
    if (exchange == null) {
      lend.lender().tell(new LoanReturned(lend.loan()));
      return this;
    }
    waiting.remove(exchange);
    counted(exchange, System.nanoTime());
    forward(exchange, lend.lender(), lend.loan(), lend.profile().agentId());
    return changed();
  }

  private Behavior<Command> onLoanBack(long number) {
    timers.cancel(new LoanExpired(number));
    Loan loan = loans.remove(number);
    return loan == null ? this : workerFree(loan.worker());
  }

  private Behavior<Command> onOffer(Offer offer) {
    long now = System.nanoTime();
    ActorRef<AgentWorker.Command> worker = null;
    Loan loan = offer.loan() == 0 ? null : loans.remove(offer.loan());
    if (loan != null) {
      timers.cancel(new LoanExpired(offer.loan()));
      worker = loan.worker();
    } else if (drainedReplies == null) {
      Demand demand = offer.request().demand();
      LocalAgent wanted = offer.agentId() == null ? null : pool.agent(offer.agentId());
      if (wanted != null
          && !wanted.idle.isEmpty()
          && wanted.profile.accepts(demand)
          && pool.unavailable(wanted, now) == null) {
        worker = pool.idleOf(wanted);
      } else {
        worker = pool.firstIdle(demand, null, now);
      }
      if (worker != null) {
        pool.markBusy(worker);
      }
    }
    WorkerProfile profile = worker == null ? null : pool.profile(worker);
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
                    exchange, body, offer.origin(), profile, settings.peers().inlineBodyLimit()));
    servedForPeers.put(served, offer.origin().path().address());
    getContext().watchWith(served, new PeerRequestEnded(served));
    pool.agentOf(worker).traffic.started(now);
    worker.tell(new AgentWorker.Assign(exchange));
    return changed();
  }

  private void forward(Exchange exchange, ActorRef<Command> peer, long loan, String agentId) {
    getContext()
        .getLog()
        .debug(
            "Request {} {} goes to hub node {}",
            exchange.method(),
            exchange.target(),
            peer.path().address());
    ActorRef<ForwardedRequest.Command> request =
        getContext()
            .spawnAnonymous(
                ForwardedRequest.create(
                    exchange,
                    getContext().getSelf(),
                    peer,
                    loan,
                    agentId,
                    settings.peers().inlineBodyLimit()));
    forwarded.put(request, peer.path().address());
    getContext().watchWith(request, new ForwardedEnded(request));
  }

  /** Schedules telling the other nodes about a change here, at most once per status interval. */
  private Behavior<Command> changed() {
    if (settings.peers() != null && !timers.isTimerActive(PublishStatus.INSTANCE)) {
      timers.startSingleTimer(
          PublishStatus.INSTANCE, PublishStatus.INSTANCE, settings.peers().statusInterval());
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
    List<AgentSummary> agents = pool.summaries(System.nanoTime());
    if (drainedReplies != null) {
      // A stopping node offers nothing to the others.
      agents = agents.stream().map(Dispatcher::offeringNothing).toList();
    }
    List<Waiter> shown = new ArrayList<>();
    for (Exchange exchange : waiting.firstLive(WAITERS_SHOWN)) {
      shown.add(waiterOf(exchange));
    }
    return new PeerStatus(getContext().getSelf(), agents, shown, waiting.size());
  }

  private static AgentSummary offeringNothing(AgentSummary a) {
    return new AgentSummary(
        a.agentId(),
        a.name(),
        a.tokenId(),
        a.acceptance(),
        a.weight(),
        a.ramp(),
        a.workers(),
        0,
        a.busy(),
        "draining",
        a.latencyMs(),
        a.load(),
        a.requestsLastMinute(),
        a.bytesLastMinute(),
        a.ejectedUntilMillis());
  }

  private static Waiter waiterOf(Exchange exchange) {
    return exchange == null
        ? null
        : new Waiter(exchange.demand(), exchange.traits().priority(), sinceMillis(exchange));
  }

  private static long sinceMillis(Exchange exchange) {
    return System.currentTimeMillis() - (System.nanoTime() - exchange.createdNanos()) / 1_000_000;
  }

  private void reject(Exchange exchange, ProxyError error) {
    respond(exchange, error.response());
  }

  private void respond(Exchange exchange, HttpResponse response) {
    getContext()
        .getLog()
        .debug(
            "Request {} {} rejected: {}", exchange.method(), exchange.target(), response.status());
    exchange.respond(response);
    exchange.finish();
  }
}
