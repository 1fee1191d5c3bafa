package io.slime.hub.dispatch;

import io.slime.hub.model.Demand;
import io.slime.hub.model.WorkerProfile;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What this node knows of the other nodes' pools, from their last status: their agents (idle and
 * busy workers, weights, usage) and their oldest waiting requests. Owned by the dispatcher. What
 * this node takes from it (an idle worker it forwards to, a waiter it lends to) is counted off at
 * once, so a stale status is not used twice; the next status from that node replaces it. A worker
 * counted idle again here stays so for one status interval whatever the peer says: a status the
 * peer sent while that worker was still busy can arrive after the answer's end, and would turn the
 * next request away from an idle worker.
 */
public final class PeerBoard {

  /** A waiting request at {@code peer}. */
  public record PeerWaiter(ActorRef<Dispatcher.Command> peer, Waiter waiter) {}

  /** An agent at {@code peer} with an idle worker for a request. */
  public record PeerAgent(ActorRef<Dispatcher.Command> peer, AgentSummary agent) {}

  /** A node's pool in short, from its last status. */
  public record Summary(int workers, int idle, int waiting) {}

  private static final class Peer {
    final Map<String, AgentSummary> agents = new LinkedHashMap<>();
    final Map<String, Integer> idleLeft = new LinkedHashMap<>();

    /** When this node last counted one of an agent's workers idle again (nanoTime). */
    final Map<String, Long> freedAt = new LinkedHashMap<>();

    final List<Waiter> waiting;
    final int waitingCount;

    Peer(List<AgentSummary> agents, List<Waiter> waiting, int waitingCount) {
      for (AgentSummary agent : agents) {
        this.agents.put(agent.agentId(), agent);
        this.idleLeft.put(agent.agentId(), agent.idle());
      }
      this.waiting = new ArrayList<>(waiting);
      this.waitingCount = waitingCount;
    }
  }

  private final Map<ActorRef<Dispatcher.Command>, Peer> peers = new LinkedHashMap<>();
  private final long holdNanos;

  /** {@code hold}: how long a worker counted idle here outweighs a peer's status; its interval. */
  public PeerBoard(Duration hold) {
    this.holdNanos = hold.toNanos();
  }

  public void update(
      ActorRef<Dispatcher.Command> peer,
      List<AgentSummary> agents,
      List<Waiter> waiting,
      int waitingCount,
      long nowNanos) {
    Peer fresh = new Peer(agents, waiting, waitingCount);
    Peer old = peers.put(peer, fresh);
    if (old == null) {
      return;
    }
    old.freedAt.forEach(
        (agentId, at) -> {
          AgentSummary agent = fresh.agents.get(agentId);
          if (agent != null && nowNanos - at < holdNanos) {
            fresh.freedAt.put(agentId, at);
            int counted = Math.min(agent.workers(), old.idleLeft.getOrDefault(agentId, 0));
            fresh.idleLeft.merge(agentId, counted, Math::max);
          }
        });
  }

  /** Forgets nodes that are no longer registered. */
  public void retain(Set<ActorRef<Dispatcher.Command>> live) {
    peers.keySet().retainAll(live);
  }

  public boolean isEmpty() {
    return peers.isEmpty();
  }

  /** Every agent at another node that has an idle worker for {@code demand}, node by node. */
  public List<PeerAgent> idleFor(Demand demand) {
    List<PeerAgent> out = new ArrayList<>();
    peers.forEach(
        (ref, peer) ->
            peer.agents.forEach(
                (id, agent) -> {
                  if (peer.idleLeft.get(id) > 0
                      && agent.unavailable() == null
                      && agent.accepts(demand)) {
                    out.add(new PeerAgent(ref, agent));
                  }
                }));
    return out;
  }

  /** Counts one of {@code agentId}'s idle workers at {@code peer} as taken. */
  public void take(ActorRef<Dispatcher.Command> peer, String agentId) {
    Peer known = peers.get(peer);
    if (known != null) {
      known.idleLeft.computeIfPresent(agentId, (id, n) -> Math.max(0, n - 1));
    }
  }

  /** Counts one of {@code worker}'s agent's workers at {@code peer} as idle again. */
  public void free(ActorRef<Dispatcher.Command> peer, WorkerProfile worker, long nowNanos) {
    Peer known = peers.get(peer);
    if (known == null || worker == null) {
      return;
    }
    AgentSummary agent = known.agents.get(worker.agentId());
    if (agent != null) {
      known.idleLeft.computeIfPresent(agent.agentId(), (id, n) -> Math.min(agent.workers(), n + 1));
      known.freedAt.put(agent.agentId(), nowNanos);
    }
  }

  /**
   * {@code agentId}'s workers at another node when they came with another token than {@code
   * tokenId}, or null: as of that node's last status.
   */
  public PeerAgent heldByOtherToken(String agentId, long tokenId) {
    for (Map.Entry<ActorRef<Dispatcher.Command>, Peer> peer : peers.entrySet()) {
      AgentSummary agent = peer.getValue().agents.get(agentId);
      if (agent != null && agent.tokenId() != tokenId) {
        return new PeerAgent(peer.getKey(), agent);
      }
    }
    return null;
  }

  /** The agents at other nodes, each node's view of each; for decisions across the cluster. */
  public List<AgentSummary> agents() {
    List<AgentSummary> out = new ArrayList<>();
    peers.values().forEach(peer -> out.addAll(peer.agents.values()));
    return out;
  }

  /** Whether any other node has a worker, busy or idle, that could serve {@code demand}. */
  public boolean anyWorker(Demand demand) {
    for (Peer peer : peers.values()) {
      for (AgentSummary agent : peer.agents.values()) {
        if (agent.workers() > 0 && agent.accepts(demand)) {
          return true;
        }
      }
    }
    return false;
  }

  /** Whether any other node has a worker at all. */
  public boolean anyWorker() {
    for (Peer peer : peers.values()) {
      for (AgentSummary agent : peer.agents.values()) {
        if (agent.workers() > 0) {
          return true;
        }
      }
    }
    return false;
  }

  /** The request waiting elsewhere that {@code worker} should serve first, or null. */
  public PeerWaiter firstWaiter(WorkerProfile worker) {
    PeerWaiter first = null;
    for (Map.Entry<ActorRef<Dispatcher.Command>, Peer> entry : peers.entrySet()) {
      for (Waiter waiter : entry.getValue().waiting) {
        if (worker.accepts(waiter.demand())) {
          if (first == null
              || waiter.before(first.waiter().priority(), first.waiter().sinceMillis())) {
            first = new PeerWaiter(entry.getKey(), waiter);
          }
          break; // each node's list is in serving order
        }
      }
    }
    return first;
  }

  /** Counts a waiter as served: this node lent it a worker. */
  public void remove(PeerWaiter served) {
    Peer peer = peers.get(served.peer());
    if (peer != null) {
      for (Iterator<Waiter> it = peer.waiting.iterator(); it.hasNext(); ) {
        if (it.next().equals(served.waiter())) {
          it.remove();
          return;
        }
      }
    }
  }

  /** Each known node's pool in short, by its address. */
  public Map<Address, Summary> summaries() {
    Map<Address, Summary> out = new LinkedHashMap<>();
    peers.forEach(
        (ref, peer) -> {
          int workers = 0;
          int idle = 0;
          for (AgentSummary agent : peer.agents.values()) {
            workers += agent.workers();
            idle += agent.idle();
          }
          out.put(ref.path().address(), new Summary(workers, idle, peer.waitingCount));
        });
    return out;
  }
}
