package io.slime.hub.dispatch;

import io.slime.hub.worker.AgentWorker;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What the {@link Dispatcher}'s handlers do differently in its two states: {@link Serving}, and
 * {@link Draining} once the hub stops.
 */
interface DispatcherState {
  /** A worker is free (it joined, finished, or came back from a loan). */
  void free(ActorRef<AgentWorker.Command> worker);

  /** An agent takes requests (again) after a change. */
  void available(LocalAgent agent);

  /** Another node's status arrived. */
  void statusArrived(long now);

  /** A worker left. */
  void left();

  /** Serving: free workers take what waits, here or elsewhere, and idle ones are lent. */
  record Serving(Matching matching, Peers peers) implements DispatcherState {
    @Override
    public void free(ActorRef<AgentWorker.Command> worker) {
      matching.workerFree(worker);
    }

    @Override
    public void available(LocalAgent agent) {
      matching.serveWaiting(agent);
    }

    @Override
    public void statusArrived(long now) {
      peers.lendIdle(now);
    }

    @Override
    public void left() {}
  }
}
