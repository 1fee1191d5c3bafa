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
 * The {@link Peers} of a node that runs alone: nothing waits elsewhere and nothing is idle
 * elsewhere, so it never lends nor forwards; a loan or an offer that reaches it anyway is turned
 * down.
 */
final class NoPeers implements Peers {
  private final String address;

  /** {@code address}: this node's, as the admin API shows it. */
  NoPeers(String address) {
    this.address = address;
  }

  @Override
  public List<PeerBoard.PeerAgent> idleFor(Demand demand) {
    return List.of();
  }

  @Override
  public PeerBoard.PeerWaiter firstWaiter(WorkerProfile profile) {
    return null;
  }

  @Override
  public void lend(
      ActorRef<AgentWorker.Command> worker,
      WorkerProfile profile,
      PeerBoard.PeerWaiter remote,
      Waiter rival) {
    throw new IllegalStateException("a node that runs alone lends to nobody");
  }

  @Override
  public void send(Job job, Placement.Pick pick) {
    throw new IllegalStateException("a node that runs alone forwards to nobody");
  }

  @Override
  public void lendIdle(long now) {}

  @Override
  public void onLend(Dispatcher.Lend lend) {
    lend.lender().tell(new Dispatcher.LoanReturned(lend.loan()));
  }

  @Override
  public ActorRef<AgentWorker.Command> loanBack(long loan) {
    return null;
  }

  @Override
  public void onOffer(Dispatcher.Offer offer, boolean lendIdle) {
    offer.origin().tell(io.slime.hub.peer.ForwardedRequest.Declined.INSTANCE);
  }

  @Override
  public void onStatus(Dispatcher.PeerStatus status) {}

  @Override
  public void onListed(Receptionist.Listing listing) {}

  @Override
  public void onUnreachable(Address address) {}

  @Override
  public void forget(ActorRef<AgentWorker.Command> worker) {}

  @Override
  public void ended(ActorRef<?> request) {}

  @Override
  public void changed() {}

  @Override
  public void publishStatus() {}

  @Override
  public void stopOffering() {}

  @Override
  public List<ActorRef<Dispatcher.Command>> known() {
    return List.of();
  }

  @Override
  public List<Dispatcher.NodePool> nodePools(NodeCounts self) {
    return List.of(
        new Dispatcher.NodePool(address, "Up", true, self.workers(), self.idle(), self.waiting()));
  }
}
