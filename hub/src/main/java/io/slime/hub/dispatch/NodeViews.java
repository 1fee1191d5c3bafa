package io.slime.hub.dispatch;

import io.slime.hub.model.WorkerProfile;
import io.slime.hub.stats.TrafficSnapshot;
import io.slime.hub.worker.AgentWorker;
import io.slime.shared.agent.AgentTerms;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;

/** Builds a node's {@link NodeView} from its {@link Pool}. */
final class NodeViews {
  private NodeViews() {}

  static NodeView of(String node, Pool pool, int waiting, TrafficSnapshot traffic, long nowNanos) {
    long nowMillis = System.currentTimeMillis();
    List<NodeView.Agent> agents = new ArrayList<>();
    for (LocalAgent agent : pool.agents()) {
      String unavailable = pool.unavailable(agent, nowNanos);
      List<NodeView.Worker> workers = new ArrayList<>();
      for (ActorRef<AgentWorker.Command> worker : agent.workers) {
        WorkerProfile profile = pool.profile(worker);
        String state = !pool.isIdle(worker) ? "busy" : unavailable != null ? unavailable : "idle";
        workers.add(
            new NodeView.Worker(
                profile.workerIndex(),
                node,
                profile.remoteAddress(),
                state,
                pool.joinedAtMillis(worker)));
      }
      workers.sort((a, b) -> Integer.compare(a.index(), b.index()));
      AgentTerms terms = pool.terms(agent);
      long ejectedUntil = agent.health.ejectedUntilNanos();
      String state = unavailable != null ? unavailable : agent.idle.isEmpty() ? "busy" : "idle";
      agents.add(
          new NodeView.Agent(
              agent.id,
              agent.profile.agentName(),
              agent.profile.tokenId(),
              agent.profile.version(),
              agent.profile.acceptance().labels(),
              agent.joinedAtMillis,
              state,
              pool.weight(agent),
              terms.rpm() == null ? 0 : terms.rpm(),
              terms.bpm() == null ? 0 : terms.bpm(),
              pool.control(agent.id).draining(),
              agent.busy(),
              agent.report,
              agent.traffic.requestsLastMinute(nowNanos),
              agent.traffic.bytesLastMinute(nowNanos),
              ejectedUntil == 0 ? 0 : nowMillis + (ejectedUntil - nowNanos) / 1_000_000,
              agent.health.ejections(),
              agent.traffic.stats().snapshot(),
              workers));
    }
    return new NodeView(node, waiting, traffic, agents);
  }
}
