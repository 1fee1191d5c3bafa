package io.slime.hub.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.slime.hub.cluster.AgentControls;
import io.slime.hub.cluster.Revocations;
import io.slime.hub.cluster.RevokedTokens;
import io.slime.hub.cluster.SharedState;
import io.slime.hub.dispatch.Dispatcher;
import io.slime.hub.dispatch.NodeView;
import io.slime.hub.http.ProxyError;
import io.slime.hub.stats.HistogramSnapshot;
import io.slime.hub.stats.TrafficSnapshot;
import io.slime.shared.agent.AgentReport;
import io.slime.shared.token.AgentToken;
import io.slime.shared.token.TokenCodec;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Every answer of the admin API and the status summary, byte for byte: status, the headers that
 * matter to a client and the body, for each endpoint with good and bad input, against a cluster of
 * stand-in dispatchers whose views are fixed. The transcript in {@code admin-answers.txt} was
 * recorded from the hub before its admin API moved onto the routing DSL; it is the contract.
 */
class AdminAnswersTest {
  private static final ActorTestKit testKit = ActorTestKit.create("AdminAnswersTest");
  private static final String ADMIN = "t0ken";
  private static final TokenCodec TOKENS = TokenCodec.forSecret("s3cret");
  private static final HttpClient CLIENT = HttpClient.newHttpClient();

  /** A token of this hub, shown in the transcript by name since sealing it is not repeatable. */
  private static volatile String sealed = "";

  /** Whether the stand-in dispatcher lists a node that never answers. */
  private static volatile boolean withSilentNode;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void shouldAnswerEveryEndpointAsRecorded() throws Exception {
    StringBuilder transcript = new StringBuilder();
    String api = "/_slime/api/v1";
    String bearer = "Bearer " + ADMIN;

    try (Served hub = serve(ADMIN, false)) {
      Call call =
          (method, path, auth, type, body) -> hub.call(transcript, method, path, auth, type, body);
      call.at("GET", "/_slime/status", null, null, null);
      call.at("GET", api + "/agents", null, null, null);
      call.at("GET", api + "/agents", "Basic dDBrZW4=", null, null);
      call.at("GET", api + "/agents", "Bearer wrong", null, null);
      call.at("GET", api + "/nowhere", "Bearer wrong", null, null);
      call.at("GET", api + "/agents", "bearer  " + ADMIN + " ", null, null);
      call.at("GET", api + "/agents/a1", bearer, null, null);
      call.at("GET", api + "/agents/a2", bearer, null, null);
      call.at("GET", api + "/agents/nobody", bearer, null, null);
      call.at("GET", api + "/agents/", bearer, null, null);
      call.at("GET", api + "/agents/a1/", bearer, null, null);
      call.at("GET", api + "/agents/a1/drain/x", bearer, null, null);
      call.at("GET", api + "/agents//drain", bearer, null, null);
      call.at("GET", api + "/agents/a1/what", bearer, null, null);
      call.at("POST", api + "/agents", bearer, null, null);
      call.at("PUT", api + "/agents", bearer, "application/json", "{}");
      call.at("HEAD", api + "/agents", bearer, null, null);
      call.at("DELETE", api + "/agents/a1", bearer, null, null);
      call.at("POST", api + "/agents/a1", bearer, null, null);
      call.at("PATCH", api + "/agents/a1/drain", bearer, null, null);
      call.at("GET", api + "/agents/a1/drain", bearer, null, null);
      call.at("GET", api + "/agents/a1/disconnect", bearer, null, null);
      call.at("DELETE", api + "/agents/a1/disconnect", bearer, null, null);

      String json = "application/json";
      String form = "application/x-www-form-urlencoded";
      call.at("PUT", api + "/agents/a1", bearer, json, "{\"weight\": 5, \"rpm\": null}");
      call.at("PUT", api + "/agents/a1", bearer, form, "{\"bpm\": 7, \"draining\": true}");
      call.at("PUT", api + "/agents/a1", bearer, null, "{\"draining\": false}");
      call.at("GET", api + "/agents/a1", bearer, null, null);
      call.at("PUT", api + "/agents/a1", bearer, json, "{\"weight\": -1}");
      call.at("PUT", api + "/agents/a1", bearer, json, "{\"weight\": 1.5}");
      call.at("PUT", api + "/agents/a1", bearer, json, "{\"weight\": 2.0}");
      call.at("PUT", api + "/agents/a1", bearer, json, "{\"weight\": 1000000000}");
      call.at("PUT", api + "/agents/a1", bearer, json, "{\"rpm\": \"x\"}");
      call.at("PUT", api + "/agents/a1", bearer, json, "{\"bpm\": -3}");
      call.at("PUT", api + "/agents/a1", bearer, json, "{\"draining\": 1}");
      call.at("PUT", api + "/agents/a1", bearer, json, "{\"draining\": null}");
      call.at("PUT", api + "/agents/a1", bearer, json, "{\"bogus\": 1, \"weight\": -1}");
      call.at("PUT", api + "/agents/a1", bearer, json, "[1]");
      call.at("PUT", api + "/agents/a1", bearer, json, "\"weight\"");
      call.at("PUT", api + "/agents/a1", bearer, json, "null");
      call.at("PUT", api + "/agents/a1", bearer, json, "not json");
      call.at("PUT", api + "/agents/a1", bearer, json, "{\"weight\": ");
      call.at("PUT", api + "/agents/a1", bearer, json, "");
      call.at("PUT", api + "/agents/a1", bearer, json, "{\"weight\": 1, \"weight\": null}");
      call.at("PUT", api + "/agents/a1", bearer, json, "{\"weight\": 3}" + " ".repeat(70_000));
      call.at("PUT", api + "/agents/new-one", bearer, json, "{\"rpm\": 60}");
      call.at("PUT", api + "/agents/new-one", bearer, json, "{\"rpm\": null}");

      call.at("POST", api + "/agents/a1/drain", bearer, null, null);
      call.at("GET", api + "/agents/a1", bearer, null, null);
      call.at("DELETE", api + "/agents/a1/drain", bearer, null, null);
      call.at("POST", api + "/agents/nobody/drain", bearer, null, null);
      call.at("POST", api + "/agents/a1/disconnect", bearer, null, null);
      call.at("POST", api + "/agents/nobody/disconnect", bearer, null, null);

      call.at("GET", api + "/stats", bearer, null, null);
      call.at("GET", api + "/stats?x=1", bearer, null, null);
      call.at("GET", api + "/stats/agents/a1", bearer, null, null);
      call.at("GET", api + "/stats/agents/a2", bearer, null, null);
      call.at("GET", api + "/stats/agents/nobody", bearer, null, null);
      call.at("GET", api + "/stats/", bearer, null, null);
      call.at("GET", api + "/stats/agents", bearer, null, null);
      call.at("GET", api + "/stats/agents/", bearer, null, null);
      call.at("GET", api + "/stats/x/y", bearer, null, null);
      call.at("POST", api + "/stats", bearer, null, null);
      call.at("POST", api + "/stats/agents/a1", bearer, null, null);
      call.at("POST", api + "/stats/x/y", bearer, null, null);

      call.at("GET", api + "/config", bearer, null, null);
      call.at("POST", api + "/config", bearer, null, null);
      call.at("GET", api + "/config/", bearer, null, null);
      call.at("GET", api + "/cluster", bearer, null, null);
      call.at("DELETE", api + "/cluster", bearer, null, null);
      call.at("GET", api + "/cluster/x", bearer, null, null);

      sealed =
          TOKENS.seal(
              new AgentToken(77, "gpu1", Instant.parse("2999-01-01T00:00:00Z"), null, null, null));
      call.at("POST", api + "/tokens/revoke", bearer, json, "{\"token\": \"" + sealed + "\"}");
      call.at("POST", api + "/tokens/revoke", bearer, null, "{\"id\": 123, \"extra\": true}");
      call.at("POST", api + "/tokens/revoke", bearer, json, "{\"id\": 12.7}");
      call.at("POST", api + "/tokens/revoke", bearer, json, "{\"id\": \"123\"}");
      call.at("POST", api + "/tokens/revoke", bearer, json, "{\"id\": null, \"token\": null}");
      call.at("POST", api + "/tokens/revoke", bearer, json, "{\"token\": \"garbage\"}");
      call.at("POST", api + "/tokens/revoke", bearer, json, "{\"token\": 5}");
      call.at("POST", api + "/tokens/revoke", bearer, json, "{}");
      call.at("POST", api + "/tokens/revoke", bearer, json, "[]");
      call.at("POST", api + "/tokens/revoke", bearer, json, "not json");
      call.at("POST", api + "/tokens/revoke", bearer, json, "");
      call.at("GET", api + "/tokens/revoke", bearer, null, null);
      call.at("POST", api + "/tokens", bearer, null, null);
      call.at("POST", api + "/tokens/revoke/", bearer, null, null);

      call.at("GET", api + "/", bearer, null, null);
      call.at("GET", api + "/nowhere", bearer, null, null);
      call.at("DELETE", api + "/nowhere/else", bearer, null, null);

      withSilentNode = true;
      try {
        call.at("GET", api + "/agents", bearer, null, null);
        call.at("GET", api + "/stats", bearer, null, null);
      } finally {
        withSilentNode = false;
      }
    }
    try (Served hub = serve("", false)) {
      hub.call(transcript, "GET", "/_slime/status", null, null, null);
      hub.call(transcript, "GET", api + "/agents", bearer, null, null);
      hub.call(transcript, "PUT", api + "/agents/a1", bearer, "application/json", "{}");
    }
    try (Served hub = serve("", true)) {
      hub.call(transcript, "GET", "/_slime/status", bearer, null, null);
    }
    try (Served hub = serve(ADMIN, true)) {
      hub.call(transcript, "GET", "/_slime/status", null, null, null);
      hub.call(transcript, "GET", "/_slime/status", "Bearer wrong", null, null);
      hub.call(transcript, "GET", "/_slime/status", bearer, null, null);
      hub.call(transcript, "POST", "/_slime/status", bearer, null, null);
    }

    String expected;
    try (InputStream in = getClass().getResourceAsStream("admin-answers.txt")) {
      expected = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    if (!expected.equals(transcript.toString())) {
      Files.writeString(Path.of("target", "admin-answers.actual.txt"), transcript);
    }
    assertEquals(expected, transcript.toString());
  }

  @FunctionalInterface
  private interface Call {
    void at(String method, String path, String auth, String contentType, String body)
        throws Exception;
  }

  /** An admin API on a port of its own, as the front door routes to it. */
  private record Served(ServerBinding binding) implements AutoCloseable {
    void call(
        StringBuilder transcript,
        String method,
        String path,
        String auth,
        String contentType,
        String body)
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
      HttpResponse<String> response =
          CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
      String shownBody =
          body == null
              ? ""
              : " "
                  + (body.length() > 1000 ? body.strip() + " + blanks" : body)
                      .replace(sealed.isEmpty() ? "\0" : sealed, "<sealed token>");
      transcript
          .append("> ")
          .append(method)
          .append(' ')
          .append(path)
          .append(auth == null ? "" : " [" + auth + "]")
          .append(contentType == null ? "" : " (" + contentType + ")")
          .append(shownBody)
          .append('\n')
          .append("< ")
          .append(response.statusCode())
          .append(header(response, "Content-Type"))
          .append(header(response, "Slime-Error"))
          .append(header(response, "Allow"))
          .append(header(response, "Retry-After"))
          .append('\n')
          .append(response.body())
          .append(response.body().endsWith("\n") ? "" : "\n")
          .append('\n');
    }

    private static String header(HttpResponse<String> response, String name) {
      return response.headers().firstValue(name).map(v -> " " + name + ": " + v).orElse("");
    }

    @Override
    public void close() {
      binding.unbind().toCompletableFuture().join();
    }
  }

  private static Served serve(String adminToken, boolean statusNeedsToken) {
    ActorRef<Dispatcher.Command> other = testKit.spawn(node(otherView(), 1, null, null));
    ActorRef<Dispatcher.Command> silent = testKit.spawn(Behaviors.ignore());
    ActorRef<Dispatcher.Command> self = testKit.spawn(node(selfView(), 2, other, silent));
    RevokedTokens revoked = new RevokedTokens();
    SharedState shared =
        new SharedState(
            revoked,
            testKit.spawn(Revocations.alone(revoked, self)),
            testKit.spawn(AgentControls.alone(self)));
    Config config =
        ConfigFactory.parseString(
            "slime.hub { secret = s3cret, admin-token = \""
                + adminToken
                + "\", app-password = \"\", port = 8080, cluster { enabled = off, seeds = [] } }");
    AdminRoutes admin =
        new AdminRoutes(
            adminToken, statusNeedsToken, config, TOKENS, self, shared, testKit.system());
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
        new HistogramSnapshot(waits),
        new HistogramSnapshot(latencies),
        new HistogramSnapshot(durations));
  }
}
