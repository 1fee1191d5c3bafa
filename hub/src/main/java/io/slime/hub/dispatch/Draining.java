package io.slime.hub.dispatch;

import io.slime.hub.dispatch.Dispatcher.Command;
import io.slime.hub.dispatch.Dispatcher.Dispatch;
import io.slime.hub.dispatch.Dispatcher.Drain;
import io.slime.hub.dispatch.Dispatcher.Lend;
import io.slime.hub.dispatch.Dispatcher.LoanReturned;
import io.slime.hub.dispatch.Dispatcher.Offer;
import io.slime.hub.dispatch.Dispatcher.Redispatch;
import io.slime.hub.dispatch.Dispatcher.Retry;
import io.slime.hub.model.Job;
import io.slime.hub.model.ProxyError;
import io.slime.hub.worker.AgentWorker;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The dispatcher once the hub stops: it refuses requests (503 shutting-down), retries nothing,
 * lends and borrows nothing (other nodes see it offer nothing), keeps freed workers idle, and
 * answers every {@link Drain} once no worker is busy any more, disconnecting them all: the agents
 * move to the other nodes, or wait for this one.
 */
final class Draining extends AbstractBehavior<Command> implements DispatcherState {
  private final Dispatcher dispatcher;
  private final Matching matching;
  private final Pool pool;
  private final Peers peers;
  private final List<ActorRef<Done>> replies = new ArrayList<>();

  Draining(
      ActorContext<Command> context,
      Dispatcher dispatcher,
      Matching matching,
      Pool pool,
      Peers peers) {
    super(context);
    this.dispatcher = dispatcher;
    this.matching = matching;
    this.pool = pool;
    this.peers = peers;
  }

  @Override
  public Receive<Command> createReceive() {
    return dispatcher
        .common(newReceiveBuilder(), this)
        .onMessage(Dispatch.class, m -> refuse(m.job()))
        .onMessage(Redispatch.class, m -> refuse(m.job()))
        .onMessage(Retry.class, this::giveUp)
        .onMessage(Lend.class, m -> dispatcher.sameAfter(() -> returnLoan(m)))
        .onMessage(Offer.class, m -> dispatcher.changedAfter(() -> peers.onOffer(m, false)))
        .onMessage(Drain.class, this::onDrain)
        .build();
  }

  private Behavior<Command> refuse(Job job) {
    matching.refuse(job, ProxyError.SHUTTING_DOWN);
    return this;
  }

  private Behavior<Command> giveUp(Retry retry) {
    if (retry.job().slot().isGone()) {
      retry.job().slot().finish();
    } else {
      matching.giveUp(retry);
    }
    return this;
  }

  private void returnLoan(Lend lend) {
    lend.lender().tell(new LoanReturned(lend.loan()));
  }

  Behavior<Command> onDrain(Drain drain) {
    replies.add(drain.replyTo());
    left();
    dispatcher.changed();
    return this;
  }

  @Override
  public void free(ActorRef<AgentWorker.Command> worker) {
    if (pool.agentOf(worker) != null) {
      pool.markIdle(worker, System.nanoTime());
    }
    left();
  }

  @Override
  public void available(LocalAgent agent) {}

  @Override
  public void statusArrived(long now) {}

  /** Replies to the drains once nothing is left to serve here. */
  @Override
  public void left() {
    if (pool.busyCount() == 0 && !replies.isEmpty()) {
      pool.workers().keySet().forEach(worker -> worker.tell(AgentWorker.Disconnect.INSTANCE));
      replies.forEach(replyTo -> replyTo.tell(Done.getInstance()));
      replies.clear();
    }
  }
}
