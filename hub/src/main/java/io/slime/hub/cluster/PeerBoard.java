package io.slime.hub.cluster;

import io.slime.hub.dispatch.Dispatcher;
import io.slime.hub.dispatch.WorkerProfile;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What this node knows of the other nodes' pools, from their last status: idle workers by what
 * they accept, and their oldest waiting requests. Owned by the dispatcher. What this node takes
 * from it (an idle worker it forwards to, a waiter it lends to) is counted off at once, so a stale
 * status is not used twice; the next status from that node replaces it.
 */
public final class PeerBoard {

  /** A waiting request at {@code peer}. */
  public record PeerWaiter(ActorRef<Dispatcher.Command> peer, Waiter waiter) {}

  private static final class Peer {
    final List<IdleGroup> groups;
    final int[] idle;
    final List<Waiter> waiting;
    final int waitingCount;

    Peer(List<IdleGroup> groups, List<Waiter> waiting, int waitingCount) {
      this.waitingCount = waitingCount;
      this.groups = groups;
      this.idle = new int[groups.size()];
      for (int i = 0; i < idle.length; i++) {
        idle[i] = groups.get(i).idle();
      }
      this.waiting = new ArrayList<>(waiting);
    }
  }

  /** A node's pool in short, from its last status. */
  public record Summary(int workers, int idle, int waiting) {}

  private final Map<ActorRef<Dispatcher.Command>, Peer> peers = new LinkedHashMap<>();

  /** Each known node's pool in short, by its address. */
  public Map<Address, Summary> summaries() {
    Map<Address, Summary> out = new LinkedHashMap<>();
    peers.forEach(
        (ref, peer) -> {
          int workers = 0;
          int idle = 0;
          for (IdleGroup group : peer.groups) {
            workers += group.total();
            idle += group.idle();
          }
          out.put(ref.path().address(), new Summary(workers, idle, peer.waitingCount));
        });
    return out;
  }

  public void update(
      ActorRef<Dispatcher.Command> peer, List<IdleGroup> groups, List<Waiter> waiting, int count) {
    peers.put(peer, new Peer(groups, waiting, count));
  }

  /** Forgets nodes that are no longer registered. */
  public void retain(Set<ActorRef<Dispatcher.Command>> live) {
    peers.keySet().retainAll(live);
  }

  /** A node with an idle worker for the request, counted as taken; null when none has one. */
  public ActorRef<Dispatcher.Command> takeIdle(String scope, String path) {
    for (Map.Entry<ActorRef<Dispatcher.Command>, Peer> entry : peers.entrySet()) {
      Peer peer = entry.getValue();
      for (int i = 0; i < peer.idle.length; i++) {
        if (peer.idle[i] > 0 && peer.groups.get(i).accepts().accepts(scope, path)) {
          peer.idle[i]--;
          return entry.getKey();
        }
      }
    }
    return null;
  }

  /** Counts one of {@code peer}'s workers accepting what {@code worker} does as idle again. */
  public void free(ActorRef<Dispatcher.Command> peer, WorkerProfile worker) {
    Peer known = peers.get(peer);
    if (known == null || worker == null) {
      return;
    }
    for (int i = 0; i < known.idle.length; i++) {
      IdleGroup group = known.groups.get(i);
      if (group.accepts().equals(worker) && known.idle[i] < group.total()) {
        known.idle[i]++;
        return;
      }
    }
  }

  /** Whether any other node has a worker, busy or idle, that could serve the request. */
  public boolean anyWorker(String scope, String path) {
    for (Peer peer : peers.values()) {
      for (IdleGroup group : peer.groups) {
        if (group.total() > 0 && group.accepts().accepts(scope, path)) {
          return true;
        }
      }
    }
    return false;
  }

  /** Whether any other node has a worker at all. */
  public boolean anyWorker() {
    for (Peer peer : peers.values()) {
      for (IdleGroup group : peer.groups) {
        if (group.total() > 0) {
          return true;
        }
      }
    }
    return false;
  }

  /** The longest-waiting request elsewhere that {@code worker} can serve, or null. */
  public PeerWaiter oldestWaiter(WorkerProfile worker) {
    PeerWaiter oldest = null;
    for (Map.Entry<ActorRef<Dispatcher.Command>, Peer> entry : peers.entrySet()) {
      for (Waiter waiter : entry.getValue().waiting) {
        if (worker.accepts(waiter.scope(), waiter.path())) {
          if (oldest == null || waiter.sinceMillis() < oldest.waiter().sinceMillis()) {
            oldest = new PeerWaiter(entry.getKey(), waiter);
          }
          break; // each node's list is oldest first
        }
      }
    }
    return oldest;
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
}
