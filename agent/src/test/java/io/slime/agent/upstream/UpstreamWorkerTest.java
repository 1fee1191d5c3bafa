package io.slime.agent.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.slime.agent.settings.AgentSettings;
import io.slime.agent.testing.TestUpstream;
import io.slime.shared.net.ServiceAddress;
import io.slime.shared.protocol.Frame;
import io.slime.shared.protocol.Header;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.http.javadsl.settings.ClientConnectionSettings;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The upstream half of a worker against a real upstream server, with a recording stand-in for the
 * hub connection: what each exchange sends back, on cancel, timeout, failure and the hub's loss.
 */
class UpstreamWorkerTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  private static ActorTestKit testKit;
  private static TestUpstream upstream;

  @BeforeAll
  static void start() throws Exception {
    testKit = ActorTestKit.create();
    upstream = new TestUpstream(testKit.system());
  }

  @AfterAll
  static void stop() {
    upstream.close();
    testKit.shutdownTestKit();
  }

  /** Stands in for the hub connection: every frame queued, and every body given up, to probes. */
  private static final class RecordingHub implements HubFrames {
    final TestProbe<Frame> frames = testKit.createTestProbe();
    final TestProbe<Integer> discarded = testKit.createTestProbe();

    @Override
    public boolean send(Frame frame) {
      frames.getRef().tell(frame);
      return true;
    }

    @Override
    public boolean send(Source<Frame, NotUsed> stream) {
      stream.runForeach(frames.getRef()::tell, testKit.system());
      return true;
    }

    @Override
    public void discard(int exchange) {
      discarded.getRef().tell(exchange);
    }

    Frame.ResponseStart head() {
      return frames.expectMessageClass(Frame.ResponseStart.class, WAIT);
    }

    Frame.Failure failure() {
      return frames.expectMessageClass(Frame.Failure.class, WAIT);
    }

    /** The body chunks up to the last, joined. */
    ByteString body() {
      ByteString all = ByteString.emptyByteString();
      while (true) {
        Frame.BodyChunk chunk = frames.expectMessageClass(Frame.BodyChunk.class, WAIT);
        all = all.concat(chunk.bytes());
        if (chunk.last()) {
          return all;
        }
      }
    }
  }

  private static ActorRef<UpstreamWorker.Command> worker(String upstreamAddress, String overrides) {
    AgentSettings settings =
        AgentSettings.create(
            ConfigFactory.parseString(
                    "slime.agent { token = t, hub = \"127.0.0.1:1\", upstreams = \""
                        + upstreamAddress
                        + "\", inline-body-limit = 64KiB }\n"
                        + overrides)
                .withFallback(ConfigFactory.defaultReference())
                .resolve());
    return testKit.spawn(
        UpstreamWorker.create(
            settings,
            // As the agent's own: the application's User-Agent, and none when it sent none.
            ClientConnectionSettings.create(testKit.system().classicSystem())
                .withUserAgentHeader(Optional.empty()),
            ServiceAddress.parse(upstreamAddress),
            "test/0"));
  }

  private static ActorRef<UpstreamWorker.Command> worker() {
    return worker(upstream.address(), "");
  }

  private static Frame.RequestStart get(int exchange, String target) {
    return new Frame.RequestStart(
        exchange, "GET", target, List.of(), "", -1, true, ByteString.emptyByteString());
  }

  private static UpstreamWorker.Serve serve(RecordingHub hub, int exchange, String target) {
    return new UpstreamWorker.Serve(get(exchange, target), null, hub);
  }

  @Test
  void shouldAnswerASmallResponseInOneFrame() {
    RecordingHub hub = new RecordingHub();
    worker().tell(serve(hub, 1, "/hello"));
    Frame.ResponseStart head = hub.head();
    assertEquals(1, head.exchange());
    assertEquals(200, head.status());
    assertTrue(head.last(), "a small body travels in the head frame");
    assertEquals("hello (no agent)", head.body().utf8String());
  }

  @Test
  void shouldStreamALargeResponseAndServeTheNextOnceItIsOut() {
    RecordingHub hub = new RecordingHub();
    var worker = worker();
    worker.tell(serve(hub, 1, "/bytes/300000"));
    assertFalse(hub.head().last(), "a large body streams after the head");
    assertEquals(TestUpstream.pattern(300_000), hub.body());

    worker.tell(serve(hub, 2, "/hello"));
    assertEquals(200, hub.head().status());
  }

  @Test
  void shouldStreamTheRequestBodyAndWaitForItsEndBeforeTheHeadIsDue() {
    RecordingHub hub = new RecordingHub();
    // A head due 300 ms after the request went out would fail the slow body below.
    var worker = worker(upstream.address(), "slime.agent.response-timeout = 300ms");
    ByteString payload = TestUpstream.pattern(200_000);
    Source<ByteString, NotUsed> body =
        Source.from(List.of(payload.slice(0, 100_000), payload.slice(100_000, 200_000)))
            .throttle(1, Duration.ofMillis(400));
    worker.tell(
        new UpstreamWorker.Serve(
            new Frame.RequestStart(
                1,
                "POST",
                "/echo-strict",
                List.of(),
                "application/octet-stream",
                payload.size(),
                false,
                ByteString.emptyByteString()),
            body,
            hub));
    // The hub says when the body it forwards has ended; here, once the upstream has it all.
    Frame.ResponseStart head = hub.head();
    worker.tell(new UpstreamWorker.BodyEnded(1));
    assertEquals(200, head.status());
    ByteString echoed = head.last() ? head.body() : head.body().concat(hub.body());
    assertEquals(payload, echoed);
  }

  @Test
  void shouldCancelBeforeTheHeadWithAFailure() {
    RecordingHub hub = new RecordingHub();
    var worker = worker();
    worker.tell(serve(hub, 1, "/pending"));
    hub.frames.expectNoMessage(Duration.ofMillis(200));
    worker.tell(new UpstreamWorker.Cancel(1));
    assertEquals(
        new Frame.Failure(1, "cancelled", Frame.Failure.Kind.CANCELLED, false), hub.failure());

    worker.tell(serve(hub, 2, "/hello"));
    assertEquals(200, hub.head().status());
  }

  @Test
  void shouldCancelAStreamingResponseAndLetTheUpstreamSeeItsClientLeave() throws Exception {
    upstream.resetCounters();
    RecordingHub hub = new RecordingHub();
    var worker = worker();
    worker.tell(serve(hub, 1, "/hang"));
    assertFalse(hub.head().last());
    worker.tell(new UpstreamWorker.Cancel(1));
    // The first body chunk may pass before the cancel; the Failure ends the frames.
    List<Frame> rest =
        hub.frames.fishForMessage(
            WAIT,
            f ->
                f instanceof Frame.Failure
                    ? FishingOutcomes.complete()
                    : FishingOutcomes.continueAndIgnore());
    Frame failure = rest.get(rest.size() - 1);
    assertEquals(new Frame.Failure(1, "cancelled", Frame.Failure.Kind.CANCELLED, false), failure);
    upstream.hangEnded().get(5, TimeUnit.SECONDS);

    worker.tell(serve(hub, 2, "/hello"));
    assertEquals(200, hub.head().status());
  }

  @Test
  void shouldIgnoreACancelOfAFinishedExchange() {
    RecordingHub hub = new RecordingHub();
    var worker = worker();
    worker.tell(serve(hub, 1, "/hello"));
    assertTrue(hub.head().last());
    worker.tell(new UpstreamWorker.Cancel(1));
    hub.frames.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void shouldAbandonAnExchangeTheHubSupersedes() {
    RecordingHub hub = new RecordingHub();
    var worker = worker();
    worker.tell(serve(hub, 1, "/pending"));
    worker.tell(serve(hub, 2, "/hello"));
    assertEquals(
        new Frame.Failure(1, "superseded by exchange 2", Frame.Failure.Kind.CANCELLED, false),
        hub.failure());
    Frame.ResponseStart head = hub.head();
    assertEquals(2, head.exchange());
    assertEquals(200, head.status());
  }

  @Test
  void shouldTimeOutAnUpstreamThatSendsNoHead() {
    RecordingHub hub = new RecordingHub();
    var worker = worker(upstream.address(), "slime.agent.response-timeout = 300ms");
    worker.tell(serve(hub, 1, "/pending"));
    Frame.Failure failure = hub.failure();
    assertEquals(Frame.Failure.Kind.TIMEOUT, failure.kind());
    assertEquals(
        "upstream http://" + upstream.address() + " sent no response head within 300 ms",
        failure.reason());

    worker.tell(serve(hub, 2, "/hello"));
    assertEquals(200, hub.head().status());
  }

  @Test
  void shouldAnswerUnreachableWhileTheUpstreamIsDown() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    RecordingHub hub = new RecordingHub();
    var worker = worker("127.0.0.1:" + closedPort, "");
    for (int n = 1; n <= 2; n++) {
      worker.tell(serve(hub, n, "/hello"));
      Frame.Failure failure = hub.failure();
      assertEquals(n, failure.exchange());
      assertEquals(Frame.Failure.Kind.UNREACHABLE, failure.kind());
      assertTrue(
          failure.reason().startsWith("upstream http://127.0.0.1:" + closedPort + " unreachable: "),
          failure.reason());
    }
  }

  @Test
  void shouldRefuseARequestItCannotForwardWithoutCallingTheUpstream() {
    RecordingHub hub = new RecordingHub();
    var worker = worker();
    worker.tell(
        new UpstreamWorker.Serve(
            new Frame.RequestStart(
                1,
                "GET",
                "/hello",
                List.of(new Header("X-Snow", "\u2603")),
                "",
                -1,
                true,
                ByteString.emptyByteString()),
            null,
            hub));
    Frame.Failure failure = hub.failure();
    assertEquals(Frame.Failure.Kind.BAD_HEADER, failure.kind());
    assertTrue(failure.reason().startsWith("cannot forward the request: "), failure.reason());
    assertTrue(failure.reason().contains("X-Snow"), failure.reason());

    worker.tell(serve(hub, 2, "/hello"));
    assertEquals(200, hub.head().status());
  }

  @Test
  void shouldStopTheUpstreamCallWhenTheHubIsLostAndServeTheNextSession() throws Exception {
    upstream.resetCounters();
    RecordingHub lost = new RecordingHub();
    var worker = worker();
    worker.tell(serve(lost, 1, "/hang"));
    assertFalse(lost.head().last());
    worker.tell(UpstreamWorker.HubLost.INSTANCE);
    upstream.hangEnded().get(5, TimeUnit.SECONDS);

    RecordingHub next = new RecordingHub();
    worker.tell(serve(next, 1, "/hello"));
    assertEquals(200, next.head().status());
  }

  @Test
  void shouldDiscardTheRestOfABodyTheUpstreamAnsweredBefore() {
    RecordingHub hub = new RecordingHub();
    var worker = worker();
    // The upstream answers /hello without reading a body; the hub is still sending one.
    worker.tell(
        new UpstreamWorker.Serve(
            new Frame.RequestStart(
                1, "GET", "/hello", List.of(), "", -1, false, ByteString.emptyByteString()),
            Source.single(ByteString.fromString("0123456789"))
                .concat(Source.<ByteString>maybe())
                .mapMaterializedValue(m -> NotUsed.getInstance()),
            hub));
    assertEquals(200, hub.head().status());
    assertEquals(1, hub.discarded.expectMessageClass(Integer.class, WAIT));
  }
}
