package io.slime.hub;

import com.typesafe.config.Config;
import io.slime.hub.cluster.AgentControls;
import io.slime.hub.cluster.Revocations;
import io.slime.hub.cluster.RevokedTokens;
import io.slime.hub.cluster.SharedState;
import io.slime.hub.dispatch.Dispatcher;
import io.slime.hub.dispatch.WorkerProfile;
import io.slime.hub.http.FrontDoor;
import io.slime.hub.stats.AgentTrafficRegistry;
import io.slime.hub.stats.TrafficStats;
import io.slime.hub.worker.AgentWorker;
import io.slime.shared.token.TokenCodec;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.stream.javadsl.Flow;

/**
 * The hub node's root: starts the {@link Dispatcher} and the {@link FrontDoor}, and gives each
 * accepted agent connection its {@link AgentWorker}. A failed bind stops the node.
 */
public final class Guardian {

  public sealed interface Command {}

  /** Make a worker for an agent connection; the worker answers with its WebSocket flow. */
  public record SpawnWorker(
      WorkerProfile profile, Duration heartbeat, ActorRef<Flow<Message, Message, NotUsed>> replyTo)
      implements Command {}

  private record BindFailed(Throwable cause) implements Command {}

  private Guardian() {}

  /** {@code config} is the whole merged configuration, for the admin API's view of it. */
  public static Behavior<Command> create(
      HubSettings settings,
      Config config,
      TokenCodec tokens,
      CompletableFuture<FrontDoor.Binding> bound) {
    return Behaviors.setup(
        context -> {
          AgentTrafficRegistry agentTraffic = new AgentTrafficRegistry();
          TrafficStats nodeTraffic = new TrafficStats();
          ActorRef<Dispatcher.Command> dispatcher =
              context.spawn(
                  Dispatcher.create(settings.dispatchSettings(), agentTraffic, nodeTraffic),
                  "dispatcher");

          RevokedTokens revoked = new RevokedTokens();
          boolean clustered = settings.cluster().enabled();
          SharedState shared =
              new SharedState(
                  revoked,
                  context.spawn(
                      clustered
                          ? Revocations.clustered(revoked, dispatcher)
                          : Revocations.alone(revoked, dispatcher),
                      "revocations"),
                  context.spawn(
                      clustered
                          ? AgentControls.clustered(dispatcher)
                          : AgentControls.alone(dispatcher),
                      "agent-controls"));
          new FrontDoor(
                  context.getSystem(),
                  settings,
                  config,
                  tokens,
                  shared,
                  dispatcher,
                  nodeTraffic,
                  context.getSelf())
              .bind()
              .whenComplete(
                  (binding, failure) -> {
                    if (failure != null) {
                      context.getSelf().tell(new BindFailed(failure));
                      bound.completeExceptionally(failure);
                    } else {
                      bound.complete(binding);
                    }
                  });
          return Behaviors.receive(Command.class)
              .onMessage(
                  SpawnWorker.class,
                  spawn -> {
                    context.spawnAnonymous(
                        AgentWorker.create(
                            spawn.profile(),
                            dispatcher,
                            new AgentWorker.WorkerSettings(
                                settings.inlineBodyLimit(),
                                settings.cancelTimeout(),
                                spawn.heartbeat()),
                            agentTraffic.forAgent(spawn.profile().agentId()),
                            spawn.replyTo()));
                    return Behaviors.same();
                  })
              .onMessage(BindFailed.class, failed -> Behaviors.stopped())
              .build();
        });
  }
}
