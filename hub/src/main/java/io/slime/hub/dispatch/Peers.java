package io.slime.hub.dispatch;

import io.slime.hub.model.Demand;
import io.slime.hub.model.Job;
import io.slime.hub.model.WorkerProfile;
import io.slime.hub.worker.AgentWorker;
import java.util.List;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * This node's dealings with the other hub nodes: lending its idle workers to their waiting
 * requests, borrowing theirs for its own, forwarding requests to them and serving theirs. {@link
 * ClusterPeers} does it in a cluster; {@link NoPeers}, for a node that runs alone, has nobody to
 * deal with. Called by the {@link Dispatcher} only, on its thread.
 */
interface Peers {

  /** The agents with an idle worker for {@code demand} at other nodes, for placement. */
  List<PeerBoard.PeerAgent> idleFor(Demand demand);

  /** The first request waiting at another node that {@code profile} accepts; null when none. */
  PeerBoard.PeerWaiter firstWaiter(WorkerProfile profile);

  /**
   * Holds {@code worker} (already counted busy) for {@code remote}'s node; {@code rival} is this
   * node's own first waiting request for it, null when none.
   */
  void lend(
      ActorRef<AgentWorker.Command> worker,
      WorkerProfile profile,
      PeerBoard.PeerWaiter remote,
      Waiter rival);

  /** Sends a request to the agent {@code pick} names at another node. */
  void send(Job job, Placement.Pick pick);

  /** Lends this node's idle workers to the requests that wait at other nodes, oldest first. */
  void lendIdle(long now);

  /** Another node lends a worker: give it this node's first waiting request it accepts, or not. */
  void onLend(Dispatcher.Lend lend);

  /** The worker lent as {@code loan}, back from its borrower or its timeout; null when unknown. */
  ActorRef<AgentWorker.Command> loanBack(long loan);

  /** Another node asks for one of this node's workers; {@code lendIdle}: an idle one may do. */
  void onOffer(Dispatcher.Offer offer, boolean lendIdle);

  /** Another node's pool as it is now arrived (the board has it already). */
  void onStatus(Dispatcher.PeerStatus status);

  /** The dispatchers of the other nodes, as the receptionist lists them now. */
  void onListed(Receptionist.Listing listing);

  /** A node stopped answering: the requests crossing to it or from it end now. */
  void onUnreachable(Address address);

  /** A worker left: it is nobody's loan any more. */
  void forget(ActorRef<AgentWorker.Command> worker);

  /** A request crossing nodes ended (its actor stopped). */
  void ended(ActorRef<?> request);

  /** Schedules telling the other nodes about a change here, at most once per status interval. */
  void changed();

  /** Tells the other nodes this node's pool now. */
  void publishStatus();

  /** From now on this node offers nothing to the others: it is stopping. */
  void stopOffering();

  /** The other nodes' dispatchers this one knows. */
  List<ActorRef<Dispatcher.Command>> known();

  /** Every node's pool in short, this node's being {@code self}. */
  List<Dispatcher.NodePool> nodePools(NodeCounts self);

  /** A node's workers, its idle ones that take requests now, and its waiting requests. */
  record NodeCounts(int workers, int idle, int waiting) {}
}
