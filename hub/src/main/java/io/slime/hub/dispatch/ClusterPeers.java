package io.slime.hub.dispatch;

import io.slime.hub.model.Demand;
import io.slime.hub.model.Job;
import io.slime.hub.model.WorkerProfile;
import io.slime.hub.peer.ForwardedRequest;
import io.slime.hub.peer.PeerHttp;
import io.slime.hub.peer.PeerRequest;
import io.slime.hub.peer.RemoteRequest;
import io.slime.hub.worker.AgentWorker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.ObjLongConsumer;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The {@link Peers} of a node in a cluster. Knows the other nodes' dispatchers, tells them this
 * node's pool (at most once per status interval), lends them idle workers for their waiting
 * requests and borrows theirs, and keeps the requests crossing nodes in both directions so that
 * they end at once when the node at the other end becomes unreachable. Works for the {@link
 * Dispatcher}, on its thread, with its context and timers.
 */
final class ClusterPeers implements Peers {

  /** How long a lent worker is held for the borrower before it is idle here again. */
  private static final Duration LOAN_TIMEOUT = Duration.ofSeconds(3);

  /** How many of its first waiting requests a node tells the others about. */
  private static final int WAITERS_SHOWN = 32;

  private record Loan(ActorRef<AgentWorker.Command> worker, WorkerProfile profile) {}

  private final ActorContext<Dispatcher.Command> context;
  private final TimerScheduler<Dispatcher.Command> timers;
  private final DispatchSettings.Peers settings;
  private final Pool pool;
  private final WaitingRequests waiting;
  private final PeerBoard board;
  private final ObjLongConsumer<Job> counted;

  private final Set<ActorRef<Dispatcher.Command>> peers = new HashSet<>();
  private final Map<Long, Loan> loans = new HashMap<>();
  // Requests crossing nodes, by the node at the other end: failed at once if it becomes
  // unreachable.
  private final Map<ActorRef<ForwardedRequest.Command>, Address> forwarded = new HashMap<>();
  private final Map<ActorRef<PeerRequest.Command>, Address> servedForPeers = new HashMap<>();
  private long lastLoan;
  private boolean offering = true;

  /**
   * {@code counted} is told of each request that leaves this node's queue for another node, and
   * when.
   */
  ClusterPeers(
      ActorContext<Dispatcher.Command> context,
      TimerScheduler<Dispatcher.Command> timers,
      DispatchSettings.Peers settings,
      Pool pool,
      WaitingRequests waiting,
      PeerBoard board,
      ObjLongConsumer<Job> counted) {
    this.context = context;
    this.timers = timers;
    this.settings = settings;
    this.pool = pool;
    this.waiting = waiting;
    this.board = board;
    this.counted = counted;
  }

  @Override
  public List<PeerBoard.PeerAgent> idleFor(Demand demand) {
    return board.idleFor(demand);
  }

  @Override
  public PeerBoard.PeerWaiter firstWaiter(WorkerProfile profile) {
    return board.firstWaiter(profile);
  }

  @Override
  public void lend(
      ActorRef<AgentWorker.Command> worker,
      WorkerProfile profile,
      PeerBoard.PeerWaiter remote,
      Waiter rival) {
    long loan = ++lastLoan;
    loans.put(loan, new Loan(worker, profile));
    board.remove(remote);
    Dispatcher.LoanExpired expired = new Dispatcher.LoanExpired(loan);
    timers.startSingleTimer(expired, expired, LOAN_TIMEOUT);
    remote.peer().tell(new Dispatcher.Lend(context.getSelf(), loan, profile, rival));
  }

  @Override
  public void send(Job job, Placement.Pick pick) {
    board.take(pick.peer(), pick.agentId());
    forward(job, pick.peer(), 0, pick.agentId());
  }

  @Override
  public void lendIdle(long now) {
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
  }

  @Override
  public void onLend(Dispatcher.Lend lend) {
    Job job = waiting.first(e -> lend.profile().accepts(e.request().demand()));
    if (job != null
        && lend.rival() != null
        && lend.rival().before(job.request().traits().priority(), Matching.sinceMillis(job))) {
      job = null; // the lender's own request comes first
    }
    if (job == null) {
      lend.lender().tell(new Dispatcher.LoanReturned(lend.loan()));
      return;
    }
    waiting.remove(job);
    counted.accept(job, System.nanoTime());
    forward(job, lend.lender(), lend.loan(), lend.profile().agentId());
  }

  @Override
  public ActorRef<AgentWorker.Command> loanBack(long number) {
    timers.cancel(new Dispatcher.LoanExpired(number));
    Loan loan = loans.remove(number);
    return loan == null ? null : loan.worker();
  }

  @Override
  public void onOffer(Dispatcher.Offer offer, boolean lendIdle) {
    long now = System.nanoTime();
    ActorRef<AgentWorker.Command> worker = null;
    Loan loan = offer.loan() == 0 ? null : loans.remove(offer.loan());
    if (loan != null) {
      timers.cancel(new Dispatcher.LoanExpired(offer.loan()));
      worker = loan.worker();
    } else if (lendIdle) {
      worker = idleWorkerFor(offer, now);
      if (worker != null) {
        pool.markBusy(worker);
      }
    }
    WorkerProfile profile = worker == null ? null : pool.profile(worker);
    if (profile == null) {
      offer.origin().tell(ForwardedRequest.Declined.INSTANCE);
      return;
    }
    CompletableFuture<Source<ByteString, NotUsed>> body = new CompletableFuture<>();
    Job job =
        PeerHttp.job(
            offer.request(),
            Source.completionStageSource(body).mapMaterializedValue(m -> NotUsed.getInstance()));
    ActorRef<PeerRequest.Command> served =
        context.spawnAnonymous(
            PeerRequest.create(job, body, offer.origin(), profile, settings.inlineBodyLimit()));
    servedForPeers.put(served, offer.origin().path().address());
    context.watchWith(served, new Dispatcher.CrossingEnded(served));
    pool.agentOf(worker).traffic.started(now);
    worker.tell(new AgentWorker.Assign(job));
  }

  /** One of the agent the offer asks for when it has an idle worker for it, else the first. */
  private ActorRef<AgentWorker.Command> idleWorkerFor(Dispatcher.Offer offer, long now) {
    Demand demand = offer.request().demand();
    LocalAgent wanted = offer.agentId() == null ? null : pool.agent(offer.agentId());
    if (wanted != null
        && !wanted.idle.isEmpty()
        && wanted.profile.accepts(demand)
        && pool.unavailable(wanted, now) == null) {
      return pool.idleOf(wanted);
    }
    return pool.firstIdle(demand, null, now);
  }

  private void forward(Job job, ActorRef<Dispatcher.Command> peer, long loan, String agentId) {
    context
        .getLog()
        .debug(
            "Request {} {} goes to hub node {}",
            job.request().method(),
            job.request().target(),
            peer.path().address());
    ActorRef<ForwardedRequest.Command> request =
        context.spawnAnonymous(
            ForwardedRequest.create(
                job,
                new Forwarding(context.getSelf(), peer, loan, agentId),
                settings.inlineBodyLimit()));
    forwarded.put(request, peer.path().address());
    context.watchWith(request, new Dispatcher.CrossingEnded(request));
  }

  /**
   * A forwarded request's way to both dispatchers: it offers itself to {@code peer} (on the worker
   * lent as {@code loan} when not 0, else on one of {@code agentId}'s, any agent's when null), and
   * comes back to {@code home}.
   */
  private record Forwarding(
      ActorRef<Dispatcher.Command> home,
      ActorRef<Dispatcher.Command> peer,
      long loan,
      String agentId)
      implements ForwardedRequest.Link {

    @Override
    public void offer(RemoteRequest request, ActorRef<ForwardedRequest.Command> origin) {
      peer.tell(new Dispatcher.Offer(request, origin, loan, agentId));
    }

    @Override
    public void declined(Job job) {
      home.tell(new Dispatcher.Redispatch(job));
    }

    @Override
    public void workerFree(WorkerProfile worker) {
      home.tell(new Dispatcher.PeerWorkerFree(peer, worker));
    }
  }

  @Override
  public void onStatus(Dispatcher.PeerStatus status) {
    if (peers.add(status.from())) {
      // It saw this node before this node's listing showed it: answer in kind.
      context.getLog().info("Hub node {} joined the pool", status.from().path().address());
      status.from().tell(currentStatus());
    }
  }

  @Override
  public void onListed(Receptionist.Listing listing) {
    Set<ActorRef<Dispatcher.Command>> live =
        new HashSet<>(listing.getServiceInstances(Dispatcher.KEY));
    live.remove(context.getSelf());
    board.retain(live);
    Dispatcher.PeerStatus status = currentStatus();
    for (ActorRef<Dispatcher.Command> peer : live) {
      if (peers.add(peer)) {
        context.getLog().info("Hub node {} joined the pool", peer.path().address());
        peer.tell(status);
      }
    }
    for (Iterator<ActorRef<Dispatcher.Command>> it = peers.iterator(); it.hasNext(); ) {
      ActorRef<Dispatcher.Command> peer = it.next();
      if (!live.contains(peer)) {
        it.remove();
        context.getLog().info("Hub node {} left the pool", peer.path().address());
      }
    }
  }

  /**
   * Offers the node nothing more, fails the requests it serves for this node (502 at once rather
   * than when it is finally removed) and cancels those this node serves for it.
   */
  @Override
  public void onUnreachable(Address address) {
    context.getLog().warn("Hub node {} is unreachable", address);
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
  }

  @Override
  public void forget(ActorRef<AgentWorker.Command> worker) {
    loans.values().removeIf(loan -> loan.worker().equals(worker));
  }

  @Override
  public void ended(ActorRef<?> request) {
    forwarded.remove(request);
    servedForPeers.remove(request);
  }

  @Override
  public void changed() {
    if (!timers.isTimerActive(Dispatcher.PublishStatus.INSTANCE)) {
      timers.startSingleTimer(
          Dispatcher.PublishStatus.INSTANCE,
          Dispatcher.PublishStatus.INSTANCE,
          settings.statusInterval());
    }
  }

  @Override
  public void publishStatus() {
    // Sent even when it looks unchanged: a peer counts off what it takes from its copy, so a worker
    // that went busy and idle again must be announced again.
    Dispatcher.PeerStatus status = currentStatus();
    peers.forEach(peer -> peer.tell(status));
  }

  @Override
  public void stopOffering() {
    offering = false;
  }

  private Dispatcher.PeerStatus currentStatus() {
    List<AgentSummary> agents = pool.summaries(System.nanoTime());
    if (!offering) {
      agents = agents.stream().map(ClusterPeers::offeringNothing).toList();
    }
    List<Waiter> shown = new ArrayList<>();
    for (Job job : waiting.firstLive(WAITERS_SHOWN)) {
      shown.add(Matching.waiterOf(job));
    }
    return new Dispatcher.PeerStatus(context.getSelf(), agents, shown, waiting.size());
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

  @Override
  public List<ActorRef<Dispatcher.Command>> known() {
    return List.copyOf(peers);
  }

  @Override
  public List<Dispatcher.NodePool> nodePools(NodeCounts self) {
    Map<Address, PeerBoard.Summary> known = board.summaries();
    Cluster cluster = Cluster.get(context.getSystem());
    Address selfAddress = cluster.selfMember().address();
    List<Dispatcher.NodePool> nodes = new ArrayList<>();
    for (Member member : cluster.state().getMembers()) {
      Address address = member.address();
      boolean isSelf = address.equals(selfAddress);
      PeerBoard.Summary summary =
          isSelf
              ? new PeerBoard.Summary(self.workers(), self.idle(), self.waiting())
              : known.getOrDefault(address, new PeerBoard.Summary(0, 0, 0));
      nodes.add(
          new Dispatcher.NodePool(
              address.toString(),
              member.status().toString(),
              isSelf,
              summary.workers(),
              summary.idle(),
              summary.waiting()));
    }
    return nodes;
  }
}
