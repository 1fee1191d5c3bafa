package io.slime.hub.dispatch;

import io.slime.hub.model.Outcome;
import io.slime.hub.model.WorkerProfile;
import io.slime.hub.replicated.AgentControl;
import io.slime.hub.worker.AgentWorker;
import io.slime.shared.agent.AgentReport;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.slf4j.Logger;

/**
 * What happens to this node's agents besides serving: workers joining under an agent id (which
 * belongs to one token at a time, across the cluster), their reports, the hub's judgement of their
 * health from how requests end, the operators' controls, revoked tokens and disconnects. Keeps the
 * {@link Pool} and logs each change; the {@link Dispatcher} then serves what the change allows.
 * Owned by the dispatcher; not thread-safe.
 */
final class AgentRoster {
  private final Pool pool;
  private final PeerBoard board;
  private final Logger log;
  private final int ejectAfterFailures;
  private final SlotChurn slotChurn = new SlotChurn();

  AgentRoster(Pool pool, PeerBoard board, Logger log, int ejectAfterFailures) {
    this.pool = pool;
    this.board = board;
    this.log = log;
    this.ejectAfterFailures = ejectAfterFailures;
  }

  /** Whether another token than {@code tokenId} holds {@code agentId}: here, then elsewhere. */
  Dispatcher.AgentIdAnswer holder(String agentId, long tokenId) {
    LocalAgent local = pool.agent(agentId);
    if (local != null) {
      WorkerProfile held = local.profile;
      return held.tokenId() == tokenId
          ? Dispatcher.AgentIdFree.INSTANCE
          : new Dispatcher.AgentIdTaken(held.agentName(), held.tokenId(), "this node");
    }
    PeerBoard.PeerAgent remote = board.heldByOtherToken(agentId, tokenId);
    return remote == null
        ? Dispatcher.AgentIdFree.INSTANCE
        : new Dispatcher.AgentIdTaken(
            remote.agent().name(),
            remote.agent().tokenId(),
            "hub node " + remote.peer().path().address());
  }

  /**
   * Takes a worker into the pool, replacing an older connection of its slot; false (and the worker
   * told to disconnect) when another token holds its agent id.
   */
  boolean join(ActorRef<AgentWorker.Command> worker, WorkerProfile profile) {
    if (holder(profile.agentId(), profile.tokenId()) instanceof Dispatcher.AgentIdTaken taken) {
      // Another token's worker joined between this one's check and its upgrade: it keeps the id.
      log.warn(
          "Agent id [{}] worker [{}]: token [{}] ({}) may not take the slots of token [{}] ({})"
              + " at {}; closing its connection",
          profile.agentId(),
          profile.workerIndex(),
          profile.agentName(),
          profile.tokenId(),
          taken.tokenName(),
          taken.tokenId(),
          taken.node());
      worker.tell(AgentWorker.Disconnect.INSTANCE);
      return false;
    }
    Pool.Joined result = pool.join(worker, profile);
    if (result.replaced() != null) {
      log.info(
          "Agent [{}] id [{}] worker [{}] reconnected; replacing its old connection",
          profile.agentName(),
          profile.agentId(),
          profile.workerIndex());
      result.replaced().tell(AgentWorker.Replace.INSTANCE);
      int churn =
          slotChurn.replaced(profile.agentId(), result.agent().workers.size(), System.nanoTime());
      if (churn > 0) {
        log.warn(
            "Agent [{}] id [{}]: its workers' connections were replaced {} times in the last"
                + " minute; two agent processes probably share this id and replace each other."
                + " Give each its own --agentID, or leave it unset so each derives its own",
            profile.agentName(),
            profile.agentId(),
            churn);
      }
    }
    if (result.newAgent()) {
      log.info("Agent [{}] id [{}] joined", profile.agentName(), profile.agentId());
    }
    return true;
  }

  /** Forgets a worker, and its agent with its last worker. */
  void leave(ActorRef<AgentWorker.Command> worker) {
    LocalAgent gone = pool.leave(worker);
    if (gone != null) {
      log.info("Agent [{}] id [{}] left", gone.profile.agentName(), gone.id);
      slotChurn.forget(gone.id);
    }
  }

  /** The hub's judgement of an agent's health from how its requests end. */
  void judge(LocalAgent agent, Outcome outcome) {
    switch (outcome) {
      case SUCCESS -> agent.health.success();
      case SERVER_ERROR -> {
        if (agent.health.counts5xx()) {
          failed(agent);
        } else {
          agent.health.success();
        }
      }
      case FAILED -> failed(agent);
      case NEUTRAL -> {}
    }
  }

  private void failed(LocalAgent agent) {
    long now = System.nanoTime();
    if (agent.health.failure(now)) {
      agent.traffic.stats().error("ejected");
      log.warn(
          "Agent [{}] id [{}] ejected for {} ms after {} failures in a row",
          agent.profile.agentName(),
          agent.id,
          (agent.health.ejectedUntilNanos() - now) / 1_000_000,
          ejectAfterFailures);
    }
  }

  /** Keeps an agent's latest report; true when its upstream's health changed with it. */
  boolean reported(LocalAgent agent, AgentReport report) {
    AgentReport before = agent.report;
    agent.report = report;
    if (before.healthy() == report.healthy()) {
      return false;
    }
    if (report.healthy()) {
      log.info(
          "Agent [{}] id [{}] reports its upstream healthy again",
          agent.profile.agentName(),
          agent.id);
    } else {
      log.warn(
          "Agent [{}] id [{}] reports its upstream unhealthy: {}; it takes no requests",
          agent.profile.agentName(),
          agent.id,
          report.healthDetail());
    }
    return true;
  }

  /** Logs an agent's return from an ejection; whether it takes requests now. */
  boolean available(LocalAgent agent, long now) {
    String unavailable = pool.unavailable(agent, now);
    if (agent.health.readmitted()) {
      log.info(
          "Agent [{}] id [{}] readmitted after its ejection (slow start)",
          agent.profile.agentName(),
          agent.id);
    }
    return unavailable == null;
  }

  /** Ejected at another node: out here too, so the agent is treated the same on every node. */
  void ejectedElsewhere(Iterable<AgentSummary> remotes, long now) {
    long nowMillis = System.currentTimeMillis();
    for (AgentSummary remote : remotes) {
      LocalAgent agent = pool.agent(remote.agentId());
      if (agent != null && remote.ejectedUntilMillis() > nowMillis) {
        agent.health.ejectedElsewhere(
            now + (remote.ejectedUntilMillis() - nowMillis) * 1_000_000, now);
      }
    }
  }

  /** Applies the operators' settings, logging each agent whose settings changed. */
  void setControls(Map<String, AgentControl> controls) {
    Map<String, AgentControl> before = pool.controls();
    pool.setControls(controls);
    for (LocalAgent agent : pool.agents()) {
      AgentControl was = before.getOrDefault(agent.id, AgentControl.NONE);
      AgentControl is = pool.control(agent.id);
      if (!was.equals(is)) {
        log.info(
            "Agent [{}] id [{}] settings now: draining {}, weight {}, rpm {}, bpm {}",
            agent.profile.agentName(),
            agent.id,
            is.draining(),
            pool.weight(agent),
            pool.terms(agent).rpm(),
            pool.terms(agent).bpm());
      }
    }
  }

  /** Disconnects the workers that connected with one of these tokens. */
  void revoke(Set<Long> tokenIds) {
    pool.workers()
        .forEach(
            (worker, profile) -> {
              if (tokenIds.contains(profile.tokenId())) {
                log.info(
                    "Agent [{}] id [{}] worker [{}] disconnected: its token was revoked",
                    profile.agentName(),
                    profile.agentId(),
                    profile.workerIndex());
                worker.tell(AgentWorker.Disconnect.INSTANCE);
              }
            });
  }

  /** Closes the connections of {@code agentId}'s workers here; how many there were. */
  int disconnect(String agentId) {
    LocalAgent agent = pool.agent(agentId);
    if (agent == null) {
      return 0;
    }
    int count = agent.workers.size();
    agent.workers.forEach(worker -> worker.tell(AgentWorker.Disconnect.INSTANCE));
    log.info("Agent id [{}]: {} worker connection(s) closed by the admin API", agentId, count);
    return count;
  }
}
