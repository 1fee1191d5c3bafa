package io.slime.agent;

import io.slime.agent.connection.HubConnection;
import io.slime.agent.monitor.AgentMonitor;
import io.slime.agent.settings.AgentSettings;
import io.slime.shared.net.ServiceAddress;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Root actor of an agent process: spawns one {@link HubConnection} per worker of every agent (one
 * agent per upstream) and one {@link AgentMonitor} per agent that tells those workers its reports,
 * and otherwise does nothing; the workers reconnect on their own.
 */
final class Guardian {

  private Guardian() {}

  /**
   * @param agentIds the id of each agent, in the order of {@code settings.upstreams()}
   */
  static Behavior<Void> create(AgentSettings settings, List<String> agentIds) {
    return Behaviors.setup(
        context -> {
          HubConnection.Clients clients =
              HubConnection.Clients.create(settings, context.getSystem());
          List<ServiceAddress> upstreams = settings.upstreams();
          for (int i = 0; i < upstreams.size(); i++) {
            String agentId = agentIds.get(i);
            List<ActorRef<HubConnection.Command>> workers = new ArrayList<>();
            for (int worker = 0; worker < settings.numWorker(); worker++) {
              // A bug in one exchange must not take a worker away for good: start it over.
              Behavior<HubConnection.Command> supervised =
                  Behaviors.supervise(
                          HubConnection.create(
                              settings, clients, agentId, worker, upstreams.get(i)))
                      .onFailure(
                          SupervisorStrategy.restartWithBackoff(
                              settings.minBackoff(),
                              settings.maxBackoff(),
                              settings.randomFactor()));
              workers.add(context.spawn(supervised, "agent-" + i + "-worker-" + worker));
            }
            // The workers come first so the monitor gets their refs; a restarted monitor keeps
            // them, and a restarted worker keeps its ref.
            context.spawn(
                Behaviors.supervise(
                        AgentMonitor.create(settings, agentId, upstreams.get(i), workers))
                    .onFailure(
                        SupervisorStrategy.restartWithBackoff(
                            settings.minBackoff(), settings.maxBackoff(), settings.randomFactor())),
                "agent-" + i + "-monitor");
            context
                .getLog()
                .info(
                    "Agent [{}] started for upstream {} with {} worker(s), hub(s) {}",
                    agentId,
                    upstreams.get(i),
                    settings.numWorker(),
                    settings.hubs());
          }
          return Behaviors.empty();
        });
  }
}
