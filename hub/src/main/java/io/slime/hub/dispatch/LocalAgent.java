package io.slime.hub.dispatch;

import io.slime.hub.health.PassiveHealth;
import io.slime.hub.model.WorkerProfile;
import io.slime.hub.replicated.AgentControl;
import io.slime.hub.stats.AgentTraffic;
import io.slime.hub.worker.AgentWorker;
import io.slime.shared.agent.AgentReport;
import io.slime.shared.agent.AgentTerms;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * One agent's workers on this node and what the dispatcher knows of it: which are idle, its last
 * report, the hub's own judgement of its health, its traffic. Owned by the {@link Dispatcher}.
 */
final class LocalAgent {
  final String id;
  final Set<ActorRef<AgentWorker.Command>> workers = new HashSet<>();

  /** Idle workers, the longest idle first. */
  final LinkedHashSet<ActorRef<AgentWorker.Command>> idle = new LinkedHashSet<>();

  final AgentTraffic traffic;
  final PassiveHealth health;
  final long joinedAtMillis = System.currentTimeMillis();

  /** Of the latest worker to join: name, token, what it accepts, its terms. */
  WorkerProfile profile;

  /** Weight and limits as they hold now; set again when the profile or the control changes. */
  AgentTerms terms;

  AgentReport report = AgentReport.NONE;

  LocalAgent(WorkerProfile profile, AgentTraffic traffic, PassiveHealth health) {
    this.id = profile.agentId();
    this.profile = profile;
    this.traffic = traffic;
    this.health = health;
  }

  int busy() {
    return workers.size() - idle.size();
  }

  /**
   * The terms that hold now: the operator's control over the token's and agent's, over defaults.
   */
  static AgentTerms effective(AgentTerms terms, AgentControl control, AgentTerms defaults) {
    AgentTerms controlled = new AgentTerms(control.weight(), null, control.rpm(), control.bpm());
    return controlled.over(terms.over(defaults));
  }
}
