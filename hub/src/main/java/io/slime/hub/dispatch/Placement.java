package io.slime.hub.dispatch;

import io.slime.hub.model.Demand;
import io.slime.hub.model.ProxiedRequest;
import io.slime.hub.model.ProxyError;
import io.slime.hub.policy.Balancer;
import io.slime.hub.policy.Choice;
import io.slime.hub.policy.Policy;
import io.slime.hub.policy.RendezvousHash;
import io.slime.hub.worker.AgentWorker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * Where a request goes: among the idle workers that accept it, here ({@link Pool}) and at the other
 * nodes ({@link Peers}), by its {@link Policy}; and, when none can take a request that does not
 * wait, which refusal names the cause. Decides only: the {@link Dispatcher} acts on the answer.
 * Owned by the dispatcher; not thread-safe.
 */
final class Placement {

  /**
   * Where a request goes: one of this node's workers ({@code worker}), or an agent at another node
   * ({@code peer}, {@code agentId}).
   */
  record Pick(
      ActorRef<AgentWorker.Command> worker,
      ActorRef<Dispatcher.Command> peer,
      String agentId,
      String pinnedTo) {

    /** Nowhere for now. */
    static final Pick NONE = new Pick(null, null, null, null);

    static Pick local(ActorRef<AgentWorker.Command> worker) {
      return new Pick(worker, null, null, null);
    }

    static Pick remote(ActorRef<Dispatcher.Command> peer, String agentId) {
      return new Pick(null, peer, agentId, null);
    }

    /** Nowhere for now, and only {@code agentId} may serve the request from now on. */
    static Pick pinned(String agentId) {
      return new Pick(null, null, null, agentId);
    }

    boolean found() {
      return worker != null || peer != null;
    }
  }

  private final Pool pool;
  private final PeerBoard board;
  private final Peers peers;
  private final Balancer balancer;
  private final Policy ipHashFallback;

  /** {@code ipHashFallback}: what ip-hash does when its agent has no idle worker; null waits. */
  Placement(Pool pool, PeerBoard board, Peers peers, Balancer balancer, Policy ipHashFallback) {
    this.pool = pool;
    this.board = board;
    this.peers = peers;
    this.balancer = balancer;
    this.ipHashFallback = ipHashFallback;
  }

  /**
   * Where {@code request} goes now, by its policy, among the idle workers that accept it here and
   * at other nodes (not {@code avoidAgent}'s); {@link Pick#NONE} when none can take it. An ip-hash
   * request whose agent is busy is pinned to that agent when the fallback is to wait.
   */
  Pick choose(ProxiedRequest request, String avoidAgent, long now) {
    Demand demand = request.demand();
    Policy policy = request.traits().policy();
    if (policy == Policy.IP_HASH && demand.pinnedAgent() == null) {
      String owner = ipHashOwner(request, now);
      if (owner != null) {
        Pick pick = chooseAmong(Policy.FIFO, demand.pinnedTo(owner), avoidAgent, now);
        if (pick.found() || ipHashFallback == null) {
          return pick.found() ? pick : Pick.pinned(owner);
        }
      }
      policy = ipHashFallback == null ? Policy.FIFO : ipHashFallback;
    }
    return chooseAmong(policy, demand, avoidAgent, now);
  }

  /** The agent a client belongs to: of those available that accept its request, anywhere. */
  private String ipHashOwner(ProxiedRequest request, long now) {
    Demand demand = request.demand();
    Set<String> agents = new HashSet<>();
    for (LocalAgent agent : pool.agents()) {
      if (agent.profile.accepts(demand) && ownsClients(pool.unavailable(agent, now))) {
        agents.add(agent.id);
      }
    }
    for (AgentSummary agent : board.agents()) {
      if (agent.accepts(demand) && ownsClients(agent.unavailable())) {
        agents.add(agent.agentId());
      }
    }
    return RendezvousHash.owner(request.traits().clientIp(), agents);
  }

  /** Busy and limited agents still own their clients; the others are out of the hash. */
  private static boolean ownsClients(String unavailable) {
    return unavailable == null || unavailable.equals("limited");
  }

  private Pick chooseAmong(Policy policy, Demand demand, String avoidAgent, long now) {
    if (policy == Policy.FIFO) {
      // The common case, kept cheap: the longest-idle worker here, else any node's.
      ActorRef<AgentWorker.Command> worker = pool.firstIdle(demand, avoidAgent, now);
      if (worker != null) {
        return Pick.local(worker);
      }
      for (PeerBoard.PeerAgent remote : peers.idleFor(demand)) {
        if (!remote.agent().agentId().equals(avoidAgent)) {
          return Pick.remote(remote.peer(), remote.agent().agentId());
        }
      }
      return Pick.NONE;
    }
    List<Candidate> candidates = candidates(demand, avoidAgent, now);
    if (candidates.isEmpty()) {
      return Pick.NONE;
    }
    Candidate chosen = candidates.get(balancer.pick(policy, candidates));
    return chosen.local != null
        ? Pick.local(pool.idleOf(chosen.local))
        : Pick.remote(chosen.peers.get(0), chosen.agentId);
  }

  /**
   * An agent with an idle worker for a request, here ({@code local}) or at other nodes, and what
   * the policies weigh, counted across the cluster.
   */
  private static final class Candidate implements Choice {
    final String agentId;
    LocalAgent local;
    final List<ActorRef<Dispatcher.Command>> peers = new ArrayList<>(1);
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
    for (PeerBoard.PeerAgent remote : peers.idleFor(demand)) {
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

  /** The answer for a request that does not wait and found no worker free to take it. */
  HttpResponse unserved(Demand demand, long now) {
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
      return ProxyError.ALL_BUSY.response();
    } else if (limitedFreesIn != Long.MAX_VALUE) {
      long seconds = Math.max(1, (limitedFreesIn + 999_999_999) / 1_000_000_000);
      return ProxyError.AGENT_LIMIT.response(ProxyError.AGENT_LIMIT.reason(), seconds);
    } else if (any) {
      return ProxyError.NO_AVAILABLE_WORKER.response(why.noneAvailable());
    } else if (pool.isEmpty() && !board.anyWorker()) {
      return ProxyError.NO_AGENT.response();
    } else if (labelsAreTheCause) {
      return ProxyError.NO_MATCHING_WORKER.response(Unserved.noLabels(demand.select()));
    }
    return ProxyError.NO_MATCHING_WORKER.response();
  }
}
