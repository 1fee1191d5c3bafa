package io.slime.hub.admin;

import io.slime.hub.dispatch.Dispatcher;
import io.slime.hub.dispatch.NodeView;
import io.slime.hub.replicated.AgentControl;
import io.slime.hub.replicated.AgentControls;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * Asks every node of the cluster (this one included) for its {@link NodeView}, so the admin API
 * answers the same from any node, together with what operators set for the agents. A node that does
 * not answer in time is left out and named.
 */
final class ClusterGather {
  private static final Duration TIMEOUT = Duration.ofSeconds(3);
  private static final Duration LOCAL_TIMEOUT = Duration.ofSeconds(5);

  /** The views that came, the dispatchers that did not answer, and the operators' settings. */
  record Gathered(List<NodeView> views, List<String> missing, Map<String, AgentControl> controls) {

    /** The agent as the API shows it, merged from every node; empty when none is connected. */
    Optional<AdminViews.Agent> agent(String agentId) {
      return Optional.ofNullable(AgentViews.byAgent(views).get(agentId))
          .map(parts -> AgentViews.agent(parts, control(agentId)));
    }

    AgentControl control(String agentId) {
      return controls.getOrDefault(agentId, AgentControl.NONE);
    }
  }

  private final ActorRef<Dispatcher.Command> dispatcher;
  private final ActorRef<AgentControls.Command> controls;
  private final ActorSystem<?> system;

  ClusterGather(
      ActorRef<Dispatcher.Command> dispatcher,
      ActorRef<AgentControls.Command> controls,
      ActorSystem<?> system) {
    this.dispatcher = dispatcher;
    this.controls = controls;
    this.system = system;
  }

  /** Every node's pool in short, as this node knows it. */
  CompletionStage<Dispatcher.PoolView> pool() {
    return AskPattern.ask(dispatcher, Dispatcher.GetPool::new, LOCAL_TIMEOUT, system.scheduler());
  }

  /** Every node's view, and what operators set for each agent. */
  CompletionStage<Gathered> views() {
    CompletionStage<Map<String, AgentControl>> settings =
        AskPattern.ask(controls, AgentControls.Get::new, LOCAL_TIMEOUT, system.scheduler());
    return askEveryNode(Dispatcher.GetNodeView::new)
        .thenCombine(settings, (answers, set) -> gathered(answers, set));
  }

  private static Gathered gathered(
      Map<ActorRef<Dispatcher.Command>, NodeView> answers, Map<String, AgentControl> controls) {
    List<NodeView> views = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    answers.forEach(
        (node, view) -> {
          if (view == null) {
            missing.add(node.path().address().toString());
          } else {
            views.add(view);
          }
        });
    return new Gathered(views, missing, controls);
  }

  /** Asks every node to close {@code agentId}'s workers; answers how many connections closed. */
  CompletionStage<Integer> disconnect(String agentId) {
    return askEveryNode(
            (ActorRef<Integer> replyTo) -> new Dispatcher.DisconnectAgent(agentId, replyTo))
        .thenApply(
            answers ->
                answers.values().stream().mapToInt(closed -> closed == null ? 0 : closed).sum());
  }

  /** Each node's answer to {@code message}, by its dispatcher; null where none came in time. */
  private <T> CompletionStage<Map<ActorRef<Dispatcher.Command>, T>> askEveryNode(
      Function<ActorRef<T>, Dispatcher.Command> message) {
    return AskPattern.<Dispatcher.Command, Dispatcher.Nodes>ask(
            dispatcher, Dispatcher.ListNodes::new, TIMEOUT, system.scheduler())
        .thenCompose(
            nodes -> {
              Map<ActorRef<Dispatcher.Command>, CompletableFuture<T>> asks = new LinkedHashMap<>();
              for (ActorRef<Dispatcher.Command> node : nodes.dispatchers()) {
                asks.put(
                    node,
                    AskPattern.<Dispatcher.Command, T>ask(
                            node, message::apply, TIMEOUT, system.scheduler())
                        .toCompletableFuture()
                        .exceptionally(timedOut -> null));
              }
              return CompletableFuture.allOf(asks.values().toArray(CompletableFuture[]::new))
                  .thenApply(
                      done -> {
                        Map<ActorRef<Dispatcher.Command>, T> answers = new LinkedHashMap<>();
                        asks.forEach((node, answer) -> answers.put(node, answer.join()));
                        return answers;
                      });
            });
  }
}
