package io.slime.hub;

import com.typesafe.config.Config;
import io.slime.hub.dispatch.Dispatcher;
import io.slime.hub.http.FrontDoor;
import io.slime.hub.http.HubSettings;
import io.slime.hub.replicated.AgentControls;
import io.slime.hub.replicated.Revocations;
import io.slime.hub.replicated.RevokedTokens;
import io.slime.hub.replicated.SharedState;
import io.slime.hub.stats.AgentTrafficRegistry;
import io.slime.hub.stats.TrafficStats;
import io.slime.shared.token.TokenCodec;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The hub node's root: starts the {@link Dispatcher} (which makes each agent connection's worker),
 * the replicated operator state, and the {@link FrontDoor}. A failed bind stops the node. Nothing
 * below it knows it: each part gets the pieces it needs.
 */
public final class Guardian {

  public sealed interface Command {}

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
                          ? Revocations.clustered(revoked, ids -> revokeAt(dispatcher, ids))
                          : Revocations.alone(revoked, ids -> revokeAt(dispatcher, ids)),
                      "revocations"),
                  context.spawn(
                      clustered
                          ? AgentControls.clustered(
                              all -> dispatcher.tell(new Dispatcher.ControlsChanged(all)))
                          : AgentControls.alone(
                              all -> dispatcher.tell(new Dispatcher.ControlsChanged(all))),
                      "agent-controls"));
          new FrontDoor(
                  context.getSystem(), settings, config, tokens, shared, dispatcher, nodeTraffic)
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
              .onMessage(BindFailed.class, failed -> Behaviors.stopped())
              .build();
        });
  }

  private static void revokeAt(ActorRef<Dispatcher.Command> dispatcher, Set<Long> ids) {
    dispatcher.tell(new Dispatcher.TokensRevoked(ids));
  }
}
