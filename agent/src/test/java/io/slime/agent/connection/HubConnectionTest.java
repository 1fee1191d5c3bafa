package io.slime.agent.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.slime.agent.Agents;
import io.slime.agent.testing.TestHub;
import io.slime.agent.testing.TestUpstream;
import io.slime.shared.SlimeVersion;
import io.slime.shared.agent.AgentReport;
import io.slime.shared.protocol.Frame;
import io.slime.shared.protocol.Header;
import io.slime.shared.protocol.SlimeHeaders;
import io.slime.shared.stream.InboundEvent;
import java.net.ServerSocket;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Workers against a real (small) hub and a real upstream server: exchanges, streaming, cancel,
 * failures and reconnection. One agent process serves most tests; tests that need another agent
 * start their own with a distinct agent id.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HubConnectionTest {
  private static final String TOKEN = "test-token";
  private static final String AGENT = "agent-under-test";
  private static final Duration WAIT = Duration.ofSeconds(10);

  private ActorTestKit testKit;
  private TestHub hub;
  private TestUpstream upstream;
  private Agents agents;

  @BeforeAll
  void start() throws Exception {
    testKit =
        ActorTestKit.create(
            ConfigFactory.parseString(
                    "pekko.http.server.request-timeout = off\n"
                        + "pekko.http.server.parsing.max-content-length = infinite")
                .withFallback(ConfigFactory.load()));
    hub = new TestHub(testKit.system(), TOKEN);
    upstream = new TestUpstream(testKit.system());
    agents =
        Agents.start(
            agentConfig(AGENT, upstream.address(), 2, TOKEN)
                .withFallback(
                    ConfigFactory.parseString(
                        "slime.agent { weight = 3, rpm = 600, bpm = 1MiB,"
                            + " labels { model = llama3, gpu = a100 } }")));
  }

  @AfterAll
  void stop() {
    agents.close();
    hub.close();
    upstream.close();
    testKit.shutdownTestKit();
  }

  private Config agentConfig(String agentId, String upstreamAddress, int workers, String token) {
    return ConfigFactory.parseString(
        "slime.agent {\n"
            + "  token = \""
            + token
            + "\"\n"
            + "  hub = \""
            + hub.address()
            + "\"\n"
            + "  upstreams = \""
            + upstreamAddress
            + "\"\n"
            + "  num-worker = "
            + workers
            + "\n"
            + "  agent-id = \""
            + agentId
            + "\"\n"
            + "  reconnect { min-backoff = 100ms, max-backoff = 1s }\n"
            + "  inline-body-limit = 64KiB\n"
            + "}");
  }

  /** The worker's live connection: waits for the next one the first time, then reuses it. */
  private final java.util.Map<String, TestHub.Worker> live =
      new java.util.concurrent.ConcurrentHashMap<>();

  private TestHub.Worker worker(String agentId, int index) throws Exception {
    String key = agentId + "/" + index;
    TestHub.Worker w = live.get(key);
    if (w == null) {
      w = hub.nextConnection(agentId, index, WAIT);
      live.put(key, w);
    }
    return w;
  }

  private static Frame.RequestStart get(int n, String target, Header... headers) {
    return new Frame.RequestStart(
        n, "GET", target, List.of(headers), "", -1, true, ByteString.emptyByteString());
  }

  @Test
  void shouldForwardGetAndAnswerInOneFrame() throws Exception {
    TestHub.Worker w = worker(AGENT, 0);
    int n = w.nextExchange();
    w.send(
        get(
            n,
            "/hello?x=1",
            new Header("User-Agent", "curl/8.0"),
            new Header("Host", "hub.example")));
    TestHub.Result r = w.await(n, WAIT);
    assertNull(r.failure());
    assertEquals(200, r.head().status());
    assertTrue(r.head().last(), "a small body travels in the head frame");
    assertEquals("hello curl/8.0", r.text());
    assertEquals("text/plain; charset=UTF-8", r.head().contentType());
    assertEquals("yes", r.header("X-Test"));
    assertEquals("127.0.0.1:" + upstream.port(), r.header("X-Seen-Host"));
    assertNotNull(r.header("Date"));
    assertNotNull(r.header("Server"));
  }

  @Test
  void shouldAnnounceItsVersionAndTermsInTheHandshake() throws Exception {
    TestHub.Worker w = worker(AGENT, 0);
    assertEquals(SlimeVersion.get(), w.header(SlimeHeaders.AGENT_VERSION));
    assertTrue(SlimeVersion.get().matches("\\d+\\.\\d+\\.\\d+.*"), SlimeVersion.get());
    assertEquals("3", w.header(SlimeHeaders.AGENT_WEIGHT));
    assertEquals("gpu=a100,model=llama3", w.header(SlimeHeaders.AGENT_LABELS));
    assertEquals("600", w.header(SlimeHeaders.AGENT_RPM));
    assertEquals("1048576", w.header(SlimeHeaders.AGENT_BPM));
    assertEquals("0", w.header(SlimeHeaders.WORKER_INDEX));
  }

  @Test
  void shouldReportItsHealthAndLoadOnItsConnections() throws Exception {
    // Without a health check the upstream counts as healthy; the first report came right after
    // the upgrade, before any load sample could name the CPU's use.
    AgentReport report = worker(AGENT, 1).awaitReport(r -> r.memoryPercent() != null, WAIT);
    assertTrue(report.healthy());
    assertNull(report.healthDetail());
    assertTrue(worker(AGENT, 0).nextReport(WAIT).healthy());
  }

  @Test
  void shouldTellTheHubOfEachChangeOfHealthAndServeMeanwhile() throws Exception {
    upstream.healthStatus(503);
    try (Agents checked =
        Agents.start(
            agentConfig("checked-agent", upstream.address(), 1, TOKEN)
                .withFallback(
                    ConfigFactory.parseString(
                        "slime.agent.health-check { path = /health, interval = 200ms,"
                            + " timeout = 1s, unhealthy-after = 2, healthy-after = 2 }")))) {
      TestHub.Worker w = hub.nextConnection("checked-agent", 0, WAIT);
      assertFalse(w.nextReport(WAIT).healthy(), "unhealthy until the first check passes");
      AgentReport failing =
          w.awaitReport(r -> "GET /health answered 503".equals(r.healthDetail()), WAIT);
      assertFalse(failing.healthy());

      // The hub stops sending, but a request that crossed the report is served.
      int n = w.nextExchange();
      w.send(get(n, "/hello"));
      assertEquals(200, w.await(n, WAIT).head().status());

      upstream.healthStatus(200);
      assertNull(w.awaitReport(AgentReport::healthy, WAIT).healthDetail());
      upstream.healthStatus(503);
      assertEquals(
          "GET /health answered 503", w.awaitReport(r -> !r.healthy(), WAIT).healthDetail());
    } finally {
      upstream.healthStatus(200);
    }
  }

  @Test
  void shouldNotPileReportsUpBehindALongStreamingResponse() throws Exception {
    try (Agents busy =
        Agents.start(
            agentConfig("busy-agent", upstream.address(), 1, TOKEN)
                .withFallback(ConfigFactory.parseString("slime.agent.report-interval = 50ms")))) {
      TestHub.Worker w = hub.nextConnection("busy-agent", 0, WAIT);
      w.nextReport(WAIT);
      int n = w.nextExchange();
      w.send(get(n, "/hang"));
      InboundEvent.Started started = (InboundEvent.Started) w.nextEvent(WAIT);
      started.body().runWith(Sink.ignore(), testKit.system());
      // Far more reports fall due than the transport queues (16) while the body holds the line.
      Thread.sleep(1500);
      w.send(new Frame.Cancel(n));
      assertEquals(
          new Frame.Failure(n, "cancelled", Frame.Failure.Kind.CANCELLED, false), signal(w));

      int next = w.nextExchange();
      w.send(get(next, "/hello"));
      assertEquals(200, w.await(next, WAIT).head().status());
      assertTrue(w.nextReport(WAIT).healthy());
    }
  }

  @Test
  void shouldForwardPostWithInlineBody() throws Exception {
    TestHub.Worker w = worker(AGENT, 0);
    int n = w.nextExchange();
    ByteString json = ByteString.fromString("{\"prompt\":\"hi\"}");
    w.send(
        new Frame.RequestStart(
            n, "POST", "/echo-strict", List.of(), "application/json", json.size(), true, json));
    TestHub.Result r = w.await(n, WAIT);
    assertNull(r.failure());
    assertEquals(200, r.head().status());
    assertEquals("application/json", r.head().contentType());
    assertEquals(json, r.body());
  }

  @Test
  void shouldStreamLargeBodiesBothWays() throws Exception {
    TestHub.Worker w = worker(AGENT, 1);
    int n = w.nextExchange();
    ByteString payload = TestUpstream.pattern(5 * 1024 * 1024);
    List<ByteString> pieces = new java.util.ArrayList<>();
    for (int i = 0; i < payload.size(); i += 64 * 1024) {
      pieces.add(payload.slice(i, Math.min(payload.size(), i + 64 * 1024)));
    }
    w.sendStreamed(
        new Frame.RequestStart(
            n,
            "POST",
            "/echo",
            List.of(),
            "application/octet-stream",
            payload.size(),
            false,
            ByteString.emptyByteString()),
        Source.from(pieces));
    TestHub.Result r = w.await(n, Duration.ofSeconds(20));
    assertNull(r.failure());
    assertEquals(201, r.head().status());
    assertFalse(r.head().last(), "a large body streams after the head");
    assertEquals(sha256(payload), sha256(r.body()));

    int m = w.nextExchange();
    w.send(get(m, "/bytes/" + payload.size()));
    TestHub.Result download = w.await(m, Duration.ofSeconds(20));
    assertEquals(sha256(payload), sha256(download.body()));
  }

  @Test
  void shouldBoundParallelRequestsByWorkers() throws Exception {
    TestHub.Worker w0 = worker(AGENT, 0);
    TestHub.Worker w1 = worker(AGENT, 1);
    upstream.resetCounters();
    for (int round = 0; round < 2; round++) {
      int a = w0.nextExchange();
      int b = w1.nextExchange();
      w0.send(get(a, "/slow"));
      w1.send(get(b, "/slow"));
      assertEquals("slow done", w0.await(a, WAIT).text());
      assertEquals("slow done", w1.await(b, WAIT).text());
    }
    assertEquals(2, upstream.maxActive());
  }

  @Test
  void shouldAbortUpstreamOnCancelAndServeTheNextRequest() throws Exception {
    TestHub.Worker w = worker(AGENT, 0);
    upstream.resetCounters();
    int n = w.nextExchange();
    w.send(get(n, "/hang"));
    InboundEvent e = w.nextEvent(WAIT);
    assertTrue(e instanceof InboundEvent.Started, "streamed head first: " + e);
    InboundEvent.Started started = (InboundEvent.Started) e;
    var body =
        started
            .body()
            .runWith(Sink.fold(ByteString.emptyByteString(), ByteString::concat), testKit.system());
    w.send(new Frame.Cancel(n));
    assertEquals(new Frame.Failure(n, "cancelled", Frame.Failure.Kind.CANCELLED, false), signal(w));
    assertTrue(body.toCompletableFuture().isDone() || waitDone(body));
    // The upstream saw its client leave: the streamed response was abandoned.
    upstream.hangEnded().get(5, TimeUnit.SECONDS);

    int next = w.nextExchange();
    w.send(get(next, "/hello"));
    assertEquals(200, w.await(next, WAIT).head().status());
  }

  @Test
  void shouldCancelBeforeTheResponseHead() throws Exception {
    TestHub.Worker w = worker(AGENT, 1);
    int n = w.nextExchange();
    w.send(get(n, "/pending"));
    Thread.sleep(200);
    w.send(new Frame.Cancel(n));
    assertEquals(new Frame.Failure(n, "cancelled", Frame.Failure.Kind.CANCELLED, false), signal(w));
    int next = w.nextExchange();
    w.send(get(next, "/hello"));
    assertEquals(200, w.await(next, WAIT).head().status());
  }

  @Test
  void shouldFollowConnectionCloseWithANewConnection() throws Exception {
    TestHub.Worker w = worker(AGENT, 1);
    for (int i = 0; i < 3; i++) {
      int n = w.nextExchange();
      w.send(get(n, "/close"));
      assertEquals("closing", w.await(n, WAIT).text());
      int m = w.nextExchange();
      ByteString json = ByteString.fromString("{}");
      w.send(
          new Frame.RequestStart(
              m, "POST", "/echo-strict", List.of(), "application/json", 2, true, json));
      assertEquals("{}", w.await(m, WAIT).text());
    }
  }

  @Test
  void shouldReportAnUnreachableUpstreamAndStayConnected() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    try (Agents dead =
        Agents.start(agentConfig("dead-upstream", "127.0.0.1:" + closedPort, 1, TOKEN))) {
      assertEquals(List.of("dead-upstream"), dead.agentIds());
      TestHub.Worker w = hub.nextConnection("dead-upstream", 0, WAIT);
      // It sets no terms, so it sends none of their headers: the hub tells unset from a value.
      for (String header :
          List.of(
              SlimeHeaders.AGENT_WEIGHT,
              SlimeHeaders.AGENT_LABELS,
              SlimeHeaders.AGENT_RPM,
              SlimeHeaders.AGENT_BPM)) {
        assertNull(w.header(header), header);
      }
      for (int i = 0; i < 2; i++) {
        int n = w.nextExchange();
        w.send(get(n, "/hello"));
        TestHub.Result r = w.await(n, WAIT);
        assertNotNull(r.failure());
        assertTrue(
            r.failure()
                .reason()
                .startsWith("upstream http://127.0.0.1:" + closedPort + " unreachable: "),
            r.failure().reason());
      }
      assertNull(w.pollEvent(Duration.ofMillis(300)), "the worker stays connected");
    }
  }

  @Test
  void shouldReconnectAfterRefusalOnceTheHubAccepts() throws Exception {
    hub.refuse("refused-agent");
    try (Agents refused =
        Agents.start(agentConfig("refused-agent", upstream.address(), 1, TOKEN))) {
      assertEquals(List.of("refused-agent"), refused.agentIds());
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (hub.refusals("refused-agent") < 2 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertTrue(hub.refusals("refused-agent") >= 2, "the agent keeps trying after a 401");
      hub.accept("refused-agent");
      TestHub.Worker w = hub.nextConnection("refused-agent", 0, WAIT);
      int n = w.nextExchange();
      w.send(get(n, "/hello"));
      assertEquals(200, w.await(n, WAIT).head().status());
    }
  }

  @Test
  void shouldReconnectWhenTheHubDropsTheConnectionAndAbortTheUpstreamCall() throws Exception {
    try (Agents other = Agents.start(agentConfig("dropped-agent", upstream.address(), 1, TOKEN))) {
      assertEquals(List.of("dropped-agent"), other.agentIds());
      TestHub.Worker first = hub.nextConnection("dropped-agent", 0, WAIT);
      upstream.resetCounters();
      int n = first.nextExchange();
      first.send(get(n, "/hang"));
      InboundEvent.Started started = (InboundEvent.Started) first.nextEvent(WAIT);
      started.body().runWith(Sink.ignore(), testKit.system());
      first.close();
      upstream.hangEnded().get(5, TimeUnit.SECONDS);

      TestHub.Worker second = hub.nextConnection("dropped-agent", 0, WAIT);
      // Long before the next report is due (10 s): it comes with the upgrade.
      assertTrue(second.nextReport(Duration.ofSeconds(3)).healthy());
      int m = second.nextExchange();
      second.send(get(m, "/hello"));
      assertEquals(200, second.await(m, WAIT).head().status());
    }
  }

  private static Frame signal(TestHub.Worker w) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      InboundEvent e = w.nextEvent(WAIT);
      if (e instanceof InboundEvent.Signal s) {
        return s.frame();
      }
    }
    throw new AssertionError("no signal");
  }

  private static boolean waitDone(java.util.concurrent.CompletionStage<?> stage) {
    try {
      stage.toCompletableFuture().get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      return true;
    }
    return true;
  }

  private static String sha256(ByteString bytes) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.toArrayUnsafe()));
  }
}
