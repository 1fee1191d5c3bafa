package io.slime.hub.dispatch;

import io.slime.hub.health.PassiveHealth;
import io.slime.hub.model.Demand;
import io.slime.hub.model.WorkerProfile;
import io.slime.hub.replicated.AgentControl;
import io.slime.hub.stats.AgentTrafficRegistry;
import io.slime.hub.worker.AgentWorker;
import io.slime.shared.agent.AgentTerms;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * This node's agents and their workers, with the idle ones in the order they turned idle, and what
 * makes an agent available or not: its operator's control, its upstream's health, the hub's
 * ejection, its per-minute limits (counted across the cluster through the {@link PeerBoard}) and
 * its weight. Owned by the {@link Dispatcher}; not thread-safe.
 */
final class Pool {
  private final Map<String, LocalAgent> agents = new LinkedHashMap<>();
  private final Map<ActorRef<AgentWorker.Command>, LocalAgent> agentOf = new HashMap<>();
  private final Map<String, ActorRef<AgentWorker.Command>> workerBySlot = new HashMap<>();
  private final Map<ActorRef<AgentWorker.Command>, WorkerProfile> profiles = new HashMap<>();
  private final Map<ActorRef<AgentWorker.Command>, Long> joinedAtMillis = new HashMap<>();

  /** Idle workers of every agent, longest idle first, with when they turned idle. */
  private final LinkedHashMap<ActorRef<AgentWorker.Command>, Long> idleOrder =
      new LinkedHashMap<>();

  private final AgentTerms defaults;
  private final PassiveHealth.Settings healthSettings;
  private final AgentTrafficRegistry traffic;
  private final PeerBoard board;
  private Map<String, AgentControl> controls = Map.of();

  Pool(
      AgentTerms defaults,
      PassiveHealth.Settings healthSettings,
      AgentTrafficRegistry traffic,
      PeerBoard board) {
    this.defaults = defaults;
    this.healthSettings = healthSettings;
    this.traffic = traffic;
    this.board = board;
  }

  /** What happened when a worker joined. */
  record Joined(LocalAgent agent, boolean newAgent, ActorRef<AgentWorker.Command> replaced) {}

  Joined join(ActorRef<AgentWorker.Command> worker, WorkerProfile profile) {
    ActorRef<AgentWorker.Command> previous = workerBySlot.put(profile.slot(), worker);
    LocalAgent agent = agents.get(profile.agentId());
    boolean newAgent = agent == null;
    if (newAgent) {
      agent =
          new LocalAgent(
              profile, traffic.forAgent(profile.agentId()), new PassiveHealth(healthSettings));
      agents.put(agent.id, agent);
    }
    agent.profile = profile;
    agent.terms = LocalAgent.effective(profile.terms(), control(agent.id), defaults);
    agent.workers.add(worker);
    agentOf.put(worker, agent);
    profiles.put(worker, profile);
    joinedAtMillis.put(worker, System.currentTimeMillis());
    return new Joined(
        agent, newAgent, previous != null && !previous.equals(worker) ? previous : null);
  }

  /**
   * Forgets a worker; returns its agent when that was its last worker here (it left), else null.
   */
  LocalAgent leave(ActorRef<AgentWorker.Command> worker) {
    LocalAgent agent = agentOf.remove(worker);
    WorkerProfile profile = profiles.remove(worker);
    joinedAtMillis.remove(worker);
    idleOrder.remove(worker);
    if (agent == null) {
      return null;
    }
    workerBySlot.remove(profile.slot(), worker);
    agent.workers.remove(worker);
    agent.idle.remove(worker);
    agent.traffic.seen(System.nanoTime());
    if (agent.workers.isEmpty()) {
      agents.remove(agent.id);
      return agent;
    }
    return null;
  }

  LocalAgent agentOf(ActorRef<AgentWorker.Command> worker) {
    return agentOf.get(worker);
  }

  WorkerProfile profile(ActorRef<AgentWorker.Command> worker) {
    return profiles.get(worker);
  }

  /** When the worker's connection joined (epoch millis). */
  long joinedAtMillis(ActorRef<AgentWorker.Command> worker) {
    return joinedAtMillis.get(worker);
  }

  LocalAgent agent(String agentId) {
    return agents.get(agentId);
  }

  Collection<LocalAgent> agents() {
    return agents.values();
  }

  Map<ActorRef<AgentWorker.Command>, WorkerProfile> workers() {
    return profiles;
  }

  boolean isEmpty() {
    return agents.isEmpty();
  }

  int workerCount() {
    return profiles.size();
  }

  int busyCount() {
    return profiles.size() - idleOrder.size();
  }

  void markIdle(ActorRef<AgentWorker.Command> worker, long nowNanos) {
    LocalAgent agent = agentOf.get(worker);
    if (agent != null) {
      idleOrder.put(worker, nowNanos);
      agent.idle.add(worker);
    }
  }

  /** Counts an idle worker busy (it was just given a request, or lent). */
  void markBusy(ActorRef<AgentWorker.Command> worker) {
    idleOrder.remove(worker);
    LocalAgent agent = agentOf.get(worker);
    if (agent != null) {
      agent.idle.remove(worker);
    }
  }

  boolean isIdle(ActorRef<AgentWorker.Command> worker) {
    return idleOrder.containsKey(worker);
  }

  long idleSince(ActorRef<AgentWorker.Command> worker) {
    Long since = idleOrder.get(worker);
    return since == null ? Long.MAX_VALUE : since;
  }

  /**
   * The longest-idle worker, of any available agent, that may serve {@code demand} (skipping {@code
   * avoidAgent}'s, when not null); null when none.
   */
  ActorRef<AgentWorker.Command> firstIdle(Demand demand, String avoidAgent, long nowNanos) {
    LocalAgent lastChecked = null;
    boolean lastOk = false;
    for (ActorRef<AgentWorker.Command> worker : idleOrder.keySet()) {
      LocalAgent agent = agentOf.get(worker);
      if (agent != lastChecked) {
        lastChecked = agent;
        lastOk =
            !agent.id.equals(avoidAgent)
                && agent.profile.accepts(demand)
                && unavailable(agent, nowNanos) == null;
      }
      if (lastOk) {
        return worker;
      }
    }
    return null;
  }

  /** The agent's longest-idle worker, or null. */
  ActorRef<AgentWorker.Command> idleOf(LocalAgent agent) {
    return agent.idle.isEmpty() ? null : agent.idle.iterator().next();
  }

  void setControls(Map<String, AgentControl> controls) {
    this.controls = controls;
    for (LocalAgent agent : agents.values()) {
      agent.terms = LocalAgent.effective(agent.profile.terms(), control(agent.id), defaults);
    }
  }

  AgentControl control(String agentId) {
    return controls.getOrDefault(agentId, AgentControl.NONE);
  }

  Map<String, AgentControl> controls() {
    return controls;
  }

  /** The agent's weight and limits as they hold now. */
  AgentTerms terms(LocalAgent agent) {
    return agent.terms;
  }

  /**
   * Why the agent takes no request now ("draining", "weight 0", "unhealthy", "ejected", "limited"),
   * or null when it takes them.
   */
  String unavailable(LocalAgent agent, long nowNanos) {
    if (control(agent.id).draining()) {
      return "draining";
    }
    AgentTerms terms = terms(agent);
    if (terms.weight() != null && terms.weight() == 0) {
      return "weight 0";
    }
    if (!agent.report.healthy()) {
      return "unhealthy";
    }
    if (agent.health.isEjected(nowNanos)) {
      return "ejected";
    }
    return limited(agent, terms, nowNanos) ? "limited" : null;
  }

  /** Whether the agent used up its requests or bytes of the last minute, on all nodes together. */
  private boolean limited(LocalAgent agent, AgentTerms terms, long nowNanos) {
    long rpm = terms.rpm() == null ? 0 : terms.rpm();
    long bpm = terms.bpm() == null ? 0 : terms.bpm();
    if (rpm > 0 && agent.traffic.requestsLastMinute(nowNanos) + elsewhere(agent.id, true) >= rpm) {
      return true;
    }
    return bpm > 0 && agent.traffic.bytesLastMinute(nowNanos) + elsewhere(agent.id, false) >= bpm;
  }

  private long elsewhere(String agentId, boolean requests) {
    long sum = 0;
    for (AgentSummary other : board.agents()) {
      if (other.agentId().equals(agentId)) {
        sum += requests ? other.requestsLastMinute() : other.bytesLastMinute();
      }
    }
    return sum;
  }

  /** Idle workers of available agents. */
  int availableIdle(long nowNanos) {
    int n = 0;
    for (LocalAgent agent : agents.values()) {
      if (!agent.idle.isEmpty() && unavailable(agent, nowNanos) == null) {
        n += agent.idle.size();
      }
    }
    return n;
  }

  /** This node's agents as it tells the other nodes. */
  List<AgentSummary> summaries(long nowNanos) {
    long nowMillis = System.currentTimeMillis();
    List<AgentSummary> out = new ArrayList<>(agents.size());
    for (LocalAgent agent : agents.values()) {
      String unavailable = unavailable(agent, nowNanos);
      long ejectedUntil = agent.health.ejectedUntilNanos();
      out.add(
          new AgentSummary(
              agent.id,
              agent.profile.agentName(),
              agent.profile.tokenId(),
              agent.profile.acceptance(),
              weight(agent),
              agent.health.ramp(nowNanos),
              agent.workers.size(),
              unavailable == null ? agent.idle.size() : 0,
              agent.busy(),
              unavailable,
              agent.traffic.latencyMs(),
              agent.report.load(),
              agent.traffic.requestsLastMinute(nowNanos),
              agent.traffic.bytesLastMinute(nowNanos),
              ejectedUntil == 0 ? 0 : nowMillis + (ejectedUntil - nowNanos) / 1_000_000));
    }
    return out;
  }

  double weight(LocalAgent agent) {
    Integer weight = terms(agent).weight();
    return weight == null ? 1 : weight;
  }
}
