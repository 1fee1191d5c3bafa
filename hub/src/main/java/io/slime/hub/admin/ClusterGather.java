package io.slime.hub.admin;

import io.slime.hub.dispatch.Dispatcher;
import io.slime.hub.dispatch.NodeView;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * Asks every node of the cluster (this one included) for its {@link NodeView}, so the admin API
 * answers the same from any node. A node that does not answer in time is left out and named.
 */
final class ClusterGather {
  private static final Duration TIMEOUT = Duration.ofSeconds(3);

  /** The views that came, and the dispatchers that did not answer. */
  record Gathered(List<NodeView> views, List<String> missing) {}

  private final ActorRef<Dispatcher.Command> dispatcher;
  private final ActorSystem<?> system;

  ClusterGather(ActorRef<Dispatcher.Command> dispatcher, ActorSystem<?> system) {
    this.dispatcher = dispatcher;
    this.system = system;
  }

  CompletionStage<Gathered> views() {
    return AskPattern.<Dispatcher.Command, Dispatcher.Nodes>ask(
            dispatcher, Dispatcher.ListNodes::new, TIMEOUT, system.scheduler())
        .thenCompose(
            nodes -> {
              List<CompletableFuture<NodeView>> asks = new ArrayList<>();
              for (ActorRef<Dispatcher.Command> node : nodes.dispatchers()) {
                asks.add(
                    AskPattern.<Dispatcher.Command, NodeView>ask(
                            node, Dispatcher.GetNodeView::new, TIMEOUT, system.scheduler())
                        .toCompletableFuture()
                        .exceptionally(timedOut -> null));
              }
              return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
                  .thenApply(
                      done -> {
                        List<NodeView> views = new ArrayList<>();
                        List<String> missing = new ArrayList<>();
                        for (int i = 0; i < asks.size(); i++) {
                          NodeView view = asks.get(i).join();
                          if (view == null) {
                            missing.add(nodes.dispatchers().get(i).path().address().toString());
                          } else {
                            views.add(view);
                          }
                        }
                        return new Gathered(views, missing);
                      });
            });
  }

  /** Asks every node to close {@code agentId}'s workers; answers how many connections closed. */
  CompletionStage<Integer> disconnect(String agentId) {
    return AskPattern.<Dispatcher.Command, Dispatcher.Nodes>ask(
            dispatcher, Dispatcher.ListNodes::new, TIMEOUT, system.scheduler())
        .thenCompose(
            nodes -> {
              List<CompletableFuture<Integer>> asks = new ArrayList<>();
              for (ActorRef<Dispatcher.Command> node : nodes.dispatchers()) {
                asks.add(
                    AskPattern.<Dispatcher.Command, Integer>ask(
                            node,
                            replyTo -> new Dispatcher.DisconnectAgent(agentId, replyTo),
                            TIMEOUT,
                            system.scheduler())
                        .toCompletableFuture()
                        .exceptionally(timedOut -> 0));
              }
              return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
                  .thenApply(done -> asks.stream().mapToInt(CompletableFuture::join).sum());
            });
  }
}
