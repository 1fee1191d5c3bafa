package io.slime.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.slime.hub.Hub;
import java.net.URI;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Who serves a request, who waits, and who is refused with which Slime-Error. */
class DispatchIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static TestUpstream upstream;
  private static TestUpstream upstream3;
  private static TestUpstream upstream4;
  private static final List<AutoCloseable> running =
      java.util.Collections.synchronizedList(new ArrayList<>());

  private static Hub emptyHub;
  private static Hub oneWorkerHub;
  private static Hub threeWorkerHub;
  private static Hub passwordHub;
  private static Hub concurrentHub;
  private static Hub queueHub;
  private static Hub scopeHub;
  private static Hub pathHub;
  private static Hub authHub;

  @BeforeAll
  static void start() {
    upstream = keep(TestUpstream.start());
    upstream3 = keep(TestUpstream.start());
    upstream4 = keep(TestUpstream.start());

    emptyHub = keep(Slime.hub());

    oneWorkerHub = keep(Slime.hub());
    keep(Slime.agent(oneWorkerHub, Slime.token("one"), upstream.address(), 1, "one"));

    threeWorkerHub = keep(Slime.hub());
    keep(Slime.agent(threeWorkerHub, Slime.token("three"), upstream3.address(), 3, "three"));

    passwordHub = keep(Slime.hub(Map.of("app-password", "open-sesame")));
    keep(Slime.agent(passwordHub, Slime.token("guarded"), upstream.address(), 1, "guarded"));

    concurrentHub = keep(Slime.hub(Map.of("concurrent", 2)));
    keep(Slime.agent(concurrentHub, Slime.token("four"), upstream4.address(), 4, "four"));

    queueHub = keep(Slime.hub(Map.of("queue.max-length", 1, "queue.max-wait", "500ms")));
    keep(Slime.agent(queueHub, Slime.token("queued"), upstream.address(), 1, "queued"));

    scopeHub = keep(Slime.hub());
    keep(
        Slime.agent(
            scopeHub,
            Slime.token("gpu-agent", List.of("gpu"), List.of()),
            upstream.address(),
            2,
            "gpu"));
    keep(
        Slime.agent(
            scopeHub,
            Slime.token("cpu-agent", List.of("cpu"), List.of()),
            upstream.address(),
            2,
            "cpu"));

    pathHub = keep(Slime.hub());
    keep(
        Slime.agent(
            pathHub,
            Slime.token("path-agent", List.of(), List.of("/echo/a*")),
            upstream.address(),
            1,
            "path"));

    authHub = keep(Slime.hub());
    String hub = Slime.hubAddress(authHub);
    keep(Slime.agent(hub, "not-a-token", upstream.address(), 1, "garbage"));
    keep(
        Slime.agent(
            hub,
            Slime.token("another-secret-entirely", "foreign", null),
            upstream.address(),
            1,
            "foreign"));
    keep(
        Slime.agent(
            hub,
            Slime.token(Slime.SECRET, "expired", Instant.now().minusSeconds(60)),
            upstream.address(),
            1,
            "expired"));

    Slime.awaitWorkers(oneWorkerHub, 1, "/echo");
    Slime.awaitWorkers(threeWorkerHub, 3, "/echo");
    Slime.awaitWorkers(concurrentHub, 2, "/echo");
    Slime.awaitWorkers(queueHub, 1, "/echo");
    Slime.awaitWorkers(scopeHub, 4, "/echo");
    Slime.awaitWorkers(pathHub, 1, "/echo/a");
  }

  @AfterAll
  static void stop() {
    // Agents first, then hubs, then upstreams: the reverse of how they were started.
    List<AutoCloseable> reversed = new ArrayList<>(running);
    java.util.Collections.reverse(reversed);
    Slime.closeAll(reversed.toArray(AutoCloseable[]::new));
  }

  private static <T extends AutoCloseable> T keep(T resource) {
    running.add(resource);
    return resource;
  }

  @Test
  void shouldAnswerNoAgentAtOnce() {
    long start = System.nanoTime();
    HttpResponse<String> r = Client.get(Slime.url(emptyHub, "/echo"));
    long ms = millisSince(start);

    assertEquals(503, r.statusCode());
    assertEquals("no-agent", Client.header(r, "Slime-Error"));
    assertTrue(r.body().startsWith("slime: "), r.body());
    assertTrue(ms < 1000, "took " + ms + " ms");
  }

  @Test
  void shouldRefuseAtOnceOrWaitForTheBusyWorker() {
    long start = System.nanoTime();
    CompletableFuture<Long> slowEnd =
        Client.getAsync(Slime.url(oneWorkerHub, "/slow?ms=1500"))
            .thenApply(
                r -> {
                  assertEquals(200, r.statusCode());
                  return System.nanoTime();
                });
    Slime.awaitValue(upstream::inFlight, 1, 5000);

    long refusedAt = System.nanoTime();
    HttpResponse<String> refused = Client.get(Slime.url(oneWorkerHub, "/echo"));
    long refusedMs = millisSince(refusedAt);
    assertEquals(503, refused.statusCode());
    assertEquals("no-idle-worker", Client.header(refused, "Slime-Error"));
    assertTrue(refusedMs < 200, "the refusal took " + refusedMs + " ms");

    HttpResponse<String> waited = Client.get(Slime.url(oneWorkerHub, "/echo"), "Slime-Block", "1");
    long waitedEnd = System.nanoTime();
    assertEquals(200, waited.statusCode(), waited.body());
    long slowEndNanos = slowEnd.join();
    long afterSlowMs = (waitedEnd - slowEndNanos) / 1_000_000;
    assertTrue(millisSince(start) >= 1400, "the blocked request did not wait for the worker");
    assertTrue(
        afterSlowMs > -100 && afterSlowMs < 300,
        "the blocked request ended " + afterSlowMs + " ms after the busy one");
  }

  @Test
  void shouldKeepTheBodyOfAWaitingRequest() throws Exception {
    byte[] body = new byte[300_000];
    new java.util.Random(7).nextBytes(body);
    String sha = java.util.HexFormat.of().formatHex(TestUpstream.sha256().digest(body));
    CompletableFuture<HttpResponse<String>> busy =
        Client.getAsync(Slime.url(oneWorkerHub, "/slow?ms=800"));
    Slime.awaitValue(upstream::inFlight, 1, 5000);

    HttpResponse<String> r =
        Client.send(
            Client.request(Slime.url(oneWorkerHub, "/echo/queued"), "Slime-Block", "1")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(body))
                .build());
    assertEquals(200, r.statusCode(), r.body());
    JsonNode echo = JSON.readTree(r.body());
    assertEquals(body.length, echo.get("bodySize").asLong());
    assertEquals(sha, echo.get("bodySha256").asText());
    assertEquals(200, busy.join().statusCode());
  }

  @Test
  void shouldServeAWaitingRequestWhenTheFirstAgentArrives() throws Exception {
    try (Hub hub = Slime.hub()) {
      CompletableFuture<HttpResponse<String>> waiting =
          Client.getAsync(Slime.url(hub, "/echo"), "Slime-Block", "1");
      Slime.sleep(500);
      assertFalse(waiting.isDone(), "a blocking request did not wait for an agent");
      try (var late = Slime.agent(hub, Slime.token("late"), upstream.address(), 1, "late")) {
        HttpResponse<String> r = waiting.get(10, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("late", Client.header(r, "Slime-Agent"));
        assertEquals(List.of("late"), late.agentIds());
      }
    }
  }

  @Test
  void shouldNeverGiveAnUpstreamMoreRequestsThanWorkers() {
    upstream3.resetMax();
    long start = System.nanoTime();
    List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      calls.add(Client.getAsync(Slime.url(threeWorkerHub, "/slow?ms=300"), "Slime-Block", "1"));
    }
    for (CompletableFuture<HttpResponse<String>> call : calls) {
      HttpResponse<String> r = call.join();
      assertEquals(200, r.statusCode(), r.body());
      assertEquals("three", Client.header(r, "Slime-Agent"));
    }
    long ms = millisSince(start);

    assertEquals(3, upstream3.maxInFlight());
    assertTrue(ms >= 4 * 300 - 50, "12 requests on 3 workers took only " + ms + " ms");
  }

  @Test
  void shouldRunOneAgentPerUpstream() {
    try (TestUpstream a = TestUpstream.start();
        TestUpstream b = TestUpstream.start();
        Hub hub = Slime.hub();
        var agents =
            Slime.agents(
                Slime.hubAddress(hub),
                Slime.token("pair"),
                List.of(a.address(), b.address()),
                2,
                "pair")) {
      assertEquals(List.of("pair-0", "pair-1"), agents.agentIds());
      Slime.awaitWorkers(hub, 4, "/echo");
      a.resetMax();
      b.resetMax();
      List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        calls.add(Client.getAsync(Slime.url(hub, "/slow?ms=300"), "Slime-Block", "1"));
      }
      calls.forEach(c -> assertEquals(200, c.join().statusCode()));
      assertEquals(2, a.maxInFlight(), "each upstream has its own 2 workers");
      assertEquals(2, b.maxInFlight(), "each upstream has its own 2 workers");
    }
  }

  @Test
  void shouldCheckTheAppPassword() {
    HttpResponse<String> without = Client.get(Slime.url(passwordHub, "/echo"));
    assertEquals(401, without.statusCode());
    assertEquals("unauthorized", Client.header(without, "Slime-Error"));

    HttpResponse<String> wrong =
        Client.get(Slime.url(passwordHub, "/echo"), "Slime-App-Password", "open-sesame!");
    assertEquals(401, wrong.statusCode());
    assertEquals("unauthorized", Client.header(wrong, "Slime-Error"));

    HttpResponse<String> right =
        Client.get(
            Slime.url(passwordHub, "/echo"),
            "Slime-App-Password",
            "open-sesame",
            "Slime-Block",
            "1");
    assertEquals(200, right.statusCode(), right.body());
    assertEquals("guarded", Client.header(right, "Slime-Agent"));
  }

  @Test
  void shouldKeepConcurrentRequestsWithinTheHubLimit() {
    upstream4.resetMax();
    List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      calls.add(Client.getAsync(Slime.url(concurrentHub, "/slow?ms=400"), "Slime-Block", "1"));
    }
    for (CompletableFuture<HttpResponse<String>> call : calls) {
      HttpResponse<String> r = call.join();
      assertEquals(200, r.statusCode(), r.body());
    }
    assertEquals(2, upstream4.maxInFlight(), "4 workers, but --concurrent 2");
  }

  @Test
  void shouldBoundTheQueueByLengthAndWait() {
    CompletableFuture<HttpResponse<String>> busy =
        Client.getAsync(Slime.url(queueHub, "/slow?ms=1500"));
    Slime.awaitValue(upstream::inFlight, 1, 5000);
    long waitStart = System.nanoTime();
    CompletableFuture<HttpResponse<String>> waiting =
        Client.getAsync(Slime.url(queueHub, "/echo"), "Slime-Block", "1");
    Slime.sleep(100);

    HttpResponse<String> full = Client.get(Slime.url(queueHub, "/echo"), "Slime-Block", "1");
    assertEquals(503, full.statusCode());
    assertEquals("queue-full", Client.header(full, "Slime-Error"));
    assertNotNull(Client.header(full, "Retry-After"));

    HttpResponse<String> timedOut = waiting.join();
    long waitedMs = millisSince(waitStart);
    assertEquals(503, timedOut.statusCode());
    assertEquals("wait-timeout", Client.header(timedOut, "Slime-Error"));
    assertNotNull(Client.header(timedOut, "Retry-After"));
    assertTrue(waitedMs >= 450 && waitedMs < 1400, "waited " + waitedMs + " ms for 500ms");

    assertEquals(200, busy.join().statusCode());
  }

  @Test
  void shouldServeAScopeOnlyByItsAgents() throws Exception {
    for (int i = 0; i < 6; i++) {
      for (String scope : List.of("gpu", "cpu")) {
        HttpResponse<String> r =
            Client.get(Slime.url(scopeHub, "/echo"), "Slime-Scope", scope, "Slime-Block", "1");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(scope + "-agent", Client.header(r, "Slime-Agent"));
        JsonNode headers = JSON.readTree(r.body()).get("headers");
        assertFalse(headers.has("slime-scope"), "Slime-Scope reached the upstream");
      }
    }
    HttpResponse<String> unscoped = Client.get(Slime.url(scopeHub, "/echo"), "Slime-Block", "1");
    assertEquals(200, unscoped.statusCode());

    HttpResponse<String> nobody = Client.get(Slime.url(scopeHub, "/echo"), "Slime-Scope", "tpu");
    assertEquals(503, nobody.statusCode());
    assertEquals("no-matching-worker", Client.header(nobody, "Slime-Error"));
  }

  @Test
  void shouldServeOnlyTheTokensPaths() {
    HttpResponse<String> allowed = Client.get(Slime.url(pathHub, "/echo/a/x"), "Slime-Block", "1");
    assertEquals(200, allowed.statusCode(), allowed.body());
    assertEquals("path-agent", Client.header(allowed, "Slime-Agent"));

    HttpResponse<String> other = Client.get(Slime.url(pathHub, "/echo/b"));
    assertEquals(503, other.statusCode());
    assertEquals("no-matching-worker", Client.header(other, "Slime-Error"));
  }

  @Test
  void shouldRefuseBadTokensAndKeepServingGoodAgents() throws Exception {
    // The three bad agents have been retrying since start-up.
    Slime.sleep(1000);
    HttpResponse<String> none = Client.get(Slime.url(authHub, "/echo"));
    assertEquals(503, none.statusCode());
    assertEquals("no-agent", Client.header(none, "Slime-Error"));

    for (String token :
        List.of(
            "not-a-token",
            Slime.token("another-secret-entirely", "foreign", null),
            Slime.token(Slime.SECRET, "expired", Instant.now().minusSeconds(60)))) {
      CompletableFuture<WebSocket> socket =
          Client.HTTP
              .newWebSocketBuilder()
              .header("Slime-Agent-Token", token)
              .header("Slime-Agent-Id", "probe")
              .header("Slime-Worker-Index", "0")
              .connectTimeout(Duration.ofSeconds(5))
              .buildAsync(
                  URI.create("ws://" + Slime.hubAddress(authHub) + "/_slime/connect"),
                  new WebSocket.Listener() {});
      try {
        socket.get(10, TimeUnit.SECONDS).abort();
        fail("the hub upgraded a connection with a bad token");
      } catch (java.util.concurrent.ExecutionException e) {
        WebSocketHandshakeException refused =
            assertInstanceOf(WebSocketHandshakeException.class, e.getCause());
        assertEquals(401, refused.getResponse().statusCode());
      }
    }

    keep(Slime.agent(authHub, Slime.token("good-agent"), upstream.address(), 1, "good"));
    for (int i = 0; i < 5; i++) {
      HttpResponse<String> r = Client.get(Slime.url(authHub, "/echo"), "Slime-Block", "1");
      assertEquals(200, r.statusCode(), r.body());
      assertEquals("good-agent", Client.header(r, "Slime-Agent"));
    }
  }

  private static long millisSince(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }
}
