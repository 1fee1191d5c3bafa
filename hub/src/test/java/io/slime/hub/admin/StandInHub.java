package io.slime.hub.admin;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.slime.hub.dispatch.Dispatcher;
import io.slime.hub.dispatch.NodeView;
import io.slime.hub.model.ProxyError;
import io.slime.hub.replicated.AgentControls;
import io.slime.hub.replicated.Revocations;
import io.slime.hub.replicated.RevokedTokens;
import io.slime.hub.replicated.SharedState;
import io.slime.hub.stats.HistogramSnapshot;
import io.slime.hub.stats.TrafficSnapshot;
import io.slime.shared.agent.AgentReport;
import io.slime.shared.token.TokenCodec;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;

/**
 * An admin API on a port of its own, routed to as the front door does, over a cluster of two
 * stand-in dispatchers with fixed views: agent a1 has workers on both nodes, a2 (ejected, draining)
 * on the first only; a third node, listed while {@link #withSilentNode}, never answers.
 */
final class StandInHub {
  static final String ADMIN = "t0ken";
  static final TokenCodec TOKENS = TokenCodec.forSecret("s3cret");
  private static final HttpClient CLIENT = HttpClient.newHttpClient();

  /** Whether the stand-in dispatcher lists a node that never answers. */
  static volatile boolean withSilentNode;

  private StandInHub() {}

  /** An admin API on a port of its own, as the front door routes to it. */
  record Served(ServerBinding binding) implements AutoCloseable {
    /**
     * Sends a request as a client would; {@code auth}, {@code contentType}, {@code body} may be
     * null.
     */
    HttpResponse<String> send(
        String method, String path, String auth, String contentType, String body)
        throws IOException, InterruptedException {
      HttpRequest.Builder request =
          HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + binding.localAddress().getPort() + path));
      if (auth != null) {
        request.header("Authorization", auth);
      }
      if (contentType != null) {
        request.header("Content-Type", contentType);
      }
      request.method(
          method,
          body == null
              ? HttpRequest.BodyPublishers.noBody()
              : HttpRequest.BodyPublishers.ofString(body));
      return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Override
    public void close() {
      binding.unbind().toCompletableFuture().join();
    }
  }

  static Served serve(ActorTestKit testKit, String adminToken, boolean statusNeedsToken) {
    ActorRef<Dispatcher.Command> other = testKit.spawn(node(otherView(), 1, null, null));
    ActorRef<Dispatcher.Command> silent = testKit.spawn(Behaviors.ignore());
    ActorRef<Dispatcher.Command> self = testKit.spawn(node(selfView(), 2, other, silent));
    RevokedTokens revoked = new RevokedTokens();
    SharedState shared =
        new SharedState(
            revoked,
            testKit.spawn(
                Revocations.alone(revoked, ids -> self.tell(new Dispatcher.TokensRevoked(ids)))),
            testKit.spawn(
                AgentControls.alone(all -> self.tell(new Dispatcher.ControlsChanged(all)))));
    Config config =
        ConfigFactory.parseString(
            "slime.hub { secret = s3cret, admin-token = \""
                + adminToken
                + "\", app-password = \"\", port = 8080, cluster { enabled = off, seeds = [] } }");
    AdminRoutes admin =
        new AdminRoutes(
            adminToken,
            statusNeedsToken,
            config,
            TOKENS,
            self,
            shared,
            testKit.system(),
            null,
            null,
            false);
    Function<
            org.apache.pekko.http.javadsl.model.HttpRequest,
            CompletionStage<org.apache.pekko.http.javadsl.model.HttpResponse>>
        front =
            request -> {
              String path = request.getUri().path();
              if (path.startsWith(AdminRoutes.PREFIX) || path.equals(AdminRoutes.STATUS_PATH)) {
                return admin.handle(request, "127.0.0.1");
              }
              return CompletableFuture.completedFuture(ProxyError.RESERVED_PATH.response());
            };
    return new Served(
        Http.get(testKit.system())
            .newServerAt("127.0.0.1", 0)
            .bind(front::apply)
            .toCompletableFuture()
            .join());
  }

  /**
   * A node's dispatcher as the admin API asks it: its view, its pool, the nodes it knows (itself
   * first, then {@code other}, then {@code silent} while {@link #withSilentNode}) and how many of
   * an agent's connections it closes.
   */
  private static Behavior<Dispatcher.Command> node(
      NodeView view,
      int closes,
      ActorRef<Dispatcher.Command> other,
      ActorRef<Dispatcher.Command> silent) {
    return Behaviors.setup(
        context ->
            Behaviors.receive(Dispatcher.Command.class)
                .onMessage(
                    Dispatcher.GetNodeView.class,
                    m -> {
                      m.replyTo().tell(view);
                      return Behaviors.same();
                    })
                .onMessage(
                    Dispatcher.ListNodes.class,
                    m -> {
                      List<ActorRef<Dispatcher.Command>> nodes = new ArrayList<>();
                      nodes.add(context.getSelf());
                      if (other != null) {
                        nodes.add(other);
                      }
                      if (silent != null && withSilentNode) {
                        nodes.add(silent);
                      }
                      m.replyTo().tell(new Dispatcher.Nodes(nodes));
                      return Behaviors.same();
                    })
                .onMessage(
                    Dispatcher.GetPool.class,
                    m -> {
                      m.replyTo()
                          .tell(
                              new Dispatcher.PoolView(
                                  List.of(
                                      new Dispatcher.NodePool(
                                          "pekko://slime-hub@10.0.0.1:25520", "Up", true, 3, 1, 2),
                                      new Dispatcher.NodePool(
                                          "pekko://slime-hub@10.0.0.2:25520",
                                          "Leaving",
                                          false,
                                          2,
                                          2,
                                          0)),
                                  2));
                      return Behaviors.same();
                    })
                .onMessage(
                    Dispatcher.DisconnectAgent.class,
                    m -> {
                      m.replyTo().tell(m.agentId().equals("a1") ? closes : 0);
                      return Behaviors.same();
                    })
                .onAnyMessage(m -> Behaviors.same())
                .build());
  }

  private static NodeView selfView() {
    Map<String, String> labels = new TreeMap<>(Map.of("model", "llama3", "gpu", "a100"));
    NodeView.Agent a1 =
        new NodeView.Agent(
            "a1",
            "gpu1",
            5165998505801115367L,
            "0.1.0",
            labels,
            1_764_634_841_102L,
            "busy",
            2.0,
            600,
            0,
            false,
            2,
            new AgentReport(
                false,
                "health check: 503",
                12.5,
                null,
                2.25,
                List.of(new AgentReport.Gpu(0, "A100", 50.5, 1024, 81920))),
            4,
            300,
            0,
            0,
            traffic(new long[] {1, 0, 5, 0, 2, 1}, Map.of("upstream-failed", 1L), 3),
            List.of(
                new NodeView.Worker(
                    0, "pekko://slime-hub@10.0.0.1:25520", "10.1.1.1", "busy", 1_764_634_841_102L),
                new NodeView.Worker(
                    1,
                    "pekko://slime-hub@10.0.0.1:25520",
                    "10.1.1.1",
                    "busy",
                    1_764_634_842_000L)));
    NodeView.Agent a2 =
        new NodeView.Agent(
            "a2",
            "cpu",
            9,
            "unknown",
            Map.of(),
            1_764_634_900_000L,
            "ejected",
            0.5,
            0,
            4096,
            true,
            0,
            AgentReport.NONE,
            0,
            0,
            1_764_635_000_000L,
            3,
            TrafficSnapshot.empty(),
            List.of(
                new NodeView.Worker(
                    0,
                    "pekko://slime-hub@10.0.0.1:25520",
                    "10.1.1.2",
                    "ejected",
                    1_764_634_900_000L)));
    return new NodeView(
        "pekko://slime-hub@10.0.0.1:25520",
        2,
        traffic(new long[] {0, 0, 40, 1, 3, 2}, Map.of("no-idle-worker", 2L, "agent-lost", 1L), 5),
        List.of(a1, a2));
  }

  private static NodeView otherView() {
    NodeView.Agent a1 =
        new NodeView.Agent(
            "a1",
            "gpu1",
            5165998505801115367L,
            "0.1.0",
            new TreeMap<>(Map.of("model", "llama3", "gpu", "a100")),
            1_764_634_800_000L,
            "idle",
            2.0,
            600,
            0,
            false,
            1,
            AgentReport.NONE,
            1,
            20,
            0,
            1,
            traffic(new long[] {0, 0, 1, 0, 0, 0}, Map.of(), 0),
            List.of(
                new NodeView.Worker(
                    2,
                    "pekko://slime-hub@10.0.0.2:25520",
                    "10.1.1.1",
                    "idle",
                    1_764_634_800_000L)));
    return new NodeView(
        "pekko://slime-hub@10.0.0.2:25520",
        0,
        traffic(new long[] {0, 0, 1, 0, 0, 0}, Map.of("upstream-failed", 1L), 0),
        List.of(a1));
  }

  private static TrafficSnapshot traffic(long[] byClass, Map<String, Long> errors, int retries) {
    long[] waits = HistogramSnapshot.empty().counts().clone();
    waits[40] = 2;
    waits[60] = 1;
    long[] latencies = HistogramSnapshot.empty().counts().clone();
    latencies[90] = 3;
    long[] durations = HistogramSnapshot.empty().counts().clone();
    return new TrafficSnapshot(
        byClass,
        new TreeMap<>(errors),
        1234,
        98_765,
        retries,
        new HistogramSnapshot(waits, null, 0),
        new HistogramSnapshot(latencies, null, 0),
        new HistogramSnapshot(durations, null, 0));
  }
}
