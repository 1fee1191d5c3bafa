package io.slime.hub.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slime.hub.model.Job;
import io.slime.hub.model.Outcome;
import io.slime.hub.model.ProxiedRequest;
import io.slime.hub.model.WorkerProfile;
import io.slime.hub.stats.AgentTraffic;
import io.slime.shared.agent.AgentReport;
import io.slime.shared.protocol.Frame;
import io.slime.shared.protocol.FrameCodec;
import io.slime.shared.protocol.Header;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.ws.BinaryMessage;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.testkit.TestPublisher;
import org.apache.pekko.stream.testkit.TestSubscriber;
import org.apache.pekko.stream.testkit.javadsl.TestSink;
import org.apache.pekko.stream.testkit.javadsl.TestSource;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class AgentWorkerTest {

  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final ActorSystem<Void> system = testKit.system();

  private static final Duration CANCEL_TIMEOUT = Duration.ofMillis(500);
  private static final AgentWorker.WorkerSettings SETTINGS =
      new AgentWorker.WorkerSettings(65536, CANCEL_TIMEOUT, null);
  private static final WorkerProfile PROFILE =
      new WorkerProfile("id-1", "gpu-box", 3, List.of(), List.of());

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void shouldJoinTheDispatcherOnceItsSocketRuns() {
    TestProbe<AgentWorker.Report> dispatcher = testKit.createTestProbe();
    TestProbe<Flow<Message, Message, NotUsed>> flows = testKit.createTestProbe();
    ActorRef<AgentWorker.Command> worker =
        testKit.spawn(
            AgentWorker.create(
                PROFILE, dispatcher.ref(), SETTINGS, new AgentTraffic(), flows.ref()));
    Flow<Message, Message, NotUsed> flow = flows.receiveMessage();

    dispatcher.expectNoMessage(Duration.ofMillis(200));
    TestSource.<Message>create(system)
        .via(flow)
        .toMat(TestSink.create(system), Keep.both())
        .run(system);

    dispatcher.expectMessage(new AgentWorker.Joined(worker, PROFILE));
  }

  @Test
  void shouldCarryARequestAndItsWholeResponse() throws Exception {
    Agent agent = Agent.connect();
    List<Header> headers = List.of(new Header("Accept", "application/json"));
    Job exchange =
        Job.of(
            ProxiedRequest.of(
                "POST",
                "/v1/chat?stream=0",
                "/v1/chat",
                headers,
                HttpEntities.create(ContentTypes.APPLICATION_JSON, "{\"q\":1}"),
                null,
                false));

    agent.worker.tell(new AgentWorker.Assign(exchange));

    Frame.RequestStart start = agent.receive(Frame.RequestStart.class);
    assertEquals(
        new Frame.RequestStart(
            1,
            "POST",
            "/v1/chat?stream=0",
            headers,
            "application/json",
            7,
            true,
            ByteString.fromString("{\"q\":1}")),
        start);
    assertFalse(exchange.slot().isAnswered());
    agent.dispatcher.expectNoMessage();

    agent.send(
        new Frame.ResponseStart(
            1,
            201,
            List.of(new Header("X-Upstream", "yes")),
            "application/json",
            2,
            true,
            ByteString.fromString("{}")));

    HttpResponse response = answer(exchange);
    assertEquals(201, response.status().intValue());
    assertEquals("yes", response.getHeader("X-Upstream").orElseThrow().value());
    assertEquals("gpu-box", response.getHeader("Slime-Agent").orElseThrow().value());
    assertEquals(ContentTypes.APPLICATION_JSON, response.entity().getContentType());
    assertEquals("{}", body(response));
    agent.dispatcher.expectMessage(new AgentWorker.Idle(agent.worker, Outcome.SUCCESS));
    exchange.slot().finished().toCompletableFuture().get(3, TimeUnit.SECONDS);
  }

  @Test
  void shouldStreamAResponseBodyAndGoIdleAfterItsLastChunk() throws Exception {
    Agent agent = Agent.connect();
    Job exchange = get("/v1/stream");
    agent.worker.tell(new AgentWorker.Assign(exchange));
    assertEquals(1, agent.receive(Frame.RequestStart.class).exchange());

    agent.send(
        new Frame.ResponseStart(
            1,
            200,
            List.of(),
            "text/plain; charset=UTF-8",
            Frame.UNKNOWN_LENGTH,
            false,
            ByteString.emptyByteString()));

    HttpResponse response = answer(exchange);
    assertEquals(200, response.status().intValue());
    assertTrue(response.entity().isChunked(), "a body of unknown length is sent chunked");
    TestSubscriber.Probe<ByteString> body =
        response.entity().getDataBytes().runWith(TestSink.create(system), system);
    body.request(10);
    agent.send(new Frame.BodyChunk(1, ByteString.fromString("a"), false));
    assertEquals("a", body.expectNext().utf8String());
    agent.send(new Frame.BodyChunk(1, ByteString.fromString("b"), false));
    assertEquals("b", body.expectNext().utf8String());
    agent.dispatcher.expectNoMessage(Duration.ofMillis(200));
    assertFalse(exchange.slot().finished().toCompletableFuture().isDone());

    agent.send(new Frame.BodyChunk(1, ByteString.fromString("c"), true));

    assertEquals("c", body.expectNext().utf8String());
    body.expectComplete();
    agent.dispatcher.expectMessage(new AgentWorker.Idle(agent.worker, Outcome.SUCCESS));
    exchange.slot().finished().toCompletableFuture().get(3, TimeUnit.SECONDS);
  }

  @Test
  void shouldStreamARequestBodyThatIsNotInMemory() throws Exception {
    Agent agent = Agent.connect();
    Pair<TestPublisher.Probe<ByteString>, Source<ByteString, NotUsed>> upload =
        TestSource.<ByteString>create(system).preMaterialize(system);
    Job exchange =
        Job.of(
            ProxiedRequest.of(
                "POST",
                "/v1/upload",
                "/v1/upload",
                List.of(),
                HttpEntities.create(ContentTypes.APPLICATION_OCTET_STREAM, upload.second()),
                null,
                false));

    agent.worker.tell(new AgentWorker.Assign(exchange));

    Frame.RequestStart start = agent.receive(Frame.RequestStart.class);
    assertFalse(start.last());
    assertEquals(Frame.UNKNOWN_LENGTH, start.contentLength());
    assertEquals("application/octet-stream", start.contentType());
    upload.first().sendNext(ByteString.fromString("part 1"));
    assertEquals(new Frame.BodyChunk(1, ByteString.fromString("part 1"), false), agent.receive());
    upload.first().sendNext(ByteString.fromString("part 2")).sendComplete();
    assertEquals(new Frame.BodyChunk(1, ByteString.fromString("part 2"), false), agent.receive());
    assertEquals(new Frame.BodyChunk(1, ByteString.emptyByteString(), true), agent.receive());

    agent.send(
        new Frame.ResponseStart(1, 204, List.of(), "", 0, true, ByteString.emptyByteString()));
    assertEquals(204, answer(exchange).status().intValue());
    agent.dispatcher.expectMessage(new AgentWorker.Idle(agent.worker, Outcome.SUCCESS));
  }

  @Test
  void shouldFailAStreamedResponseBodyWhenTheAgentFailsAfterTheHead() throws Exception {
    Agent agent = Agent.connect();
    Job exchange = get("/v1/stream");
    agent.worker.tell(new AgentWorker.Assign(exchange));
    agent.receive(Frame.RequestStart.class);
    agent.send(
        new Frame.ResponseStart(
            1, 200, List.of(), "", Frame.UNKNOWN_LENGTH, false, ByteString.emptyByteString()));
    TestSubscriber.Probe<ByteString> body =
        answer(exchange).entity().getDataBytes().runWith(TestSink.create(system), system);
    body.request(10);
    agent.send(new Frame.BodyChunk(1, ByteString.fromString("a"), false));
    assertEquals("a", body.expectNext().utf8String());

    agent.send(new Frame.Failure(1, "upstream reset"));

    assertEquals("upstream reset", body.expectError().getMessage());
    agent.dispatcher.expectMessage(new AgentWorker.Idle(agent.worker, Outcome.FAILED));
    exchange.slot().finished().toCompletableFuture().get(3, TimeUnit.SECONDS);
  }

  @Test
  void shouldHandTheDispatcherABadGatewayWithTheAgentsReasonWhenItFailsBeforeTheHead()
      throws Exception {
    Agent agent = Agent.connect();
    Job exchange = get("/v1/chat");
    agent.worker.tell(new AgentWorker.Assign(exchange));
    agent.receive(Frame.RequestStart.class);

    agent.send(new Frame.Failure(1, "upstream 127.0.0.1:9 refused the connection"));

    // The dispatcher answers, or tries another worker first: this one still counts busy.
    HttpResponse response = expectRetry(agent, exchange);
    assertEquals(502, response.status().intValue());
    assertEquals("upstream-failed", response.getHeader("Slime-Error").orElseThrow().value());
    assertEquals("slime: upstream 127.0.0.1:9 refused the connection\n", body(response));
    agent.dispatcher.expectMessage(new AgentWorker.Idle(agent.worker, Outcome.FAILED));
  }

  @Test
  void shouldAnswerATimeoutAt504WithoutARetry() throws Exception {
    Agent agent = Agent.connect();
    Job exchange = get("/v1/slow");
    agent.worker.tell(new AgentWorker.Assign(exchange));
    agent.receive(Frame.RequestStart.class);

    agent.send(new Frame.Failure(1, "no head in 10m", Frame.Failure.Kind.TIMEOUT, false));

    HttpResponse response = answer(exchange);
    assertEquals(504, response.status().intValue());
    assertEquals("upstream-timeout", response.getHeader("Slime-Error").orElseThrow().value());
    assertEquals("slime: no head in 10m\n", body(response));
    agent.dispatcher.expectMessage(new AgentWorker.Idle(agent.worker, Outcome.FAILED));
  }

  @Test
  void shouldAnswerARefusedHeaderAt400AndJudgeNothingByIt() throws Exception {
    Agent agent = Agent.connect();
    Job exchange = get("/v1/chat");
    agent.worker.tell(new AgentWorker.Assign(exchange));
    agent.receive(Frame.RequestStart.class);

    agent.send(new Frame.Failure(1, "header X holds U+0100", Frame.Failure.Kind.BAD_HEADER, false));

    HttpResponse response = answer(exchange);
    assertEquals(400, response.status().intValue());
    assertEquals("bad-header", response.getHeader("Slime-Error").orElseThrow().value());
    agent.dispatcher.expectMessage(new AgentWorker.Idle(agent.worker, Outcome.NEUTRAL));
  }

  @Test
  void shouldNotRetryWhatTheAgentAlreadySentTwice() throws Exception {
    Agent agent = Agent.connect();
    Job exchange = get("/v1/chat");
    agent.worker.tell(new AgentWorker.Assign(exchange));
    agent.receive(Frame.RequestStart.class);

    agent.send(new Frame.Failure(1, "closed again", Frame.Failure.Kind.UNREACHABLE, true));

    assertEquals(502, answer(exchange).status().intValue());
    agent.dispatcher.expectMessage(new AgentWorker.Idle(agent.worker, Outcome.FAILED));
  }

  @Test
  void shouldCountAMalformedAnswerOncePerRequestAndAgent() throws Exception {
    Agent agent = Agent.connect();
    Job exchange = get("/v1/chat");
    for (int n = 1; n <= 2; n++) {
      // The hub's retry lands on the same agent: its second failure says nothing more.
      agent.worker.tell(new AgentWorker.Assign(exchange));
      agent.receive(Frame.RequestStart.class);
      agent.send(
          new Frame.Failure(
              n, "sent a malformed response: x", Frame.Failure.Kind.MALFORMED, false));
      AgentWorker.Failed retry = expectRetryOf(agent, exchange);
      exchange = retry.job(); // as the dispatcher retries it: with the failure charged
      HttpResponse response = retry.error();
      assertEquals(502, response.status().intValue());
      assertEquals("upstream-failed", response.getHeader("Slime-Error").orElseThrow().value());
      agent.dispatcher.expectMessage(
          new AgentWorker.Idle(agent.worker, n == 1 ? Outcome.FAILED : Outcome.NEUTRAL));
    }
  }

  @Test
  void shouldAnswerAgentLostWhenTheSocketClosesWhileBusyAndStopOnceReleased() throws Exception {
    Agent agent = Agent.connect();
    Job exchange = get("/v1/chat");
    agent.worker.tell(new AgentWorker.Assign(exchange));
    agent.receive(Frame.RequestStart.class);

    agent.toHub.sendComplete();

    assertAgentLost(expectRetry(agent, exchange));
    agent.dispatcher.expectMessage(new AgentWorker.Left(agent.worker));
    agent.fromHub.expectComplete();
    agent.worker.tell(AgentWorker.Released.INSTANCE);
    agent.dispatcher.expectTerminated(agent.worker);
  }

  @Test
  void shouldAnswerAgentLostWhenTheSocketFailsWhileBusyAndBounceLateAssignments() throws Exception {
    Agent agent = Agent.connect();
    Job exchange = get("/v1/chat");
    agent.worker.tell(new AgentWorker.Assign(exchange));
    agent.receive(Frame.RequestStart.class);

    agent.toHub.sendError(new RuntimeException("connection reset"));

    assertAgentLost(expectRetry(agent, exchange));
    agent.dispatcher.expectMessage(new AgentWorker.Left(agent.worker));
    Job late = get("/v1/late");
    agent.worker.tell(new AgentWorker.Assign(late));
    agent.dispatcher.expectMessage(new AgentWorker.Bounced(late));
    agent.worker.tell(AgentWorker.Released.INSTANCE);
    agent.dispatcher.expectTerminated(agent.worker);
  }

  @Test
  void shouldCancelWhenTheApplicationLeavesAndGoIdleOnceTheAgentConfirms() throws Exception {
    Agent agent = Agent.connect();
    Job exchange = get("/v1/chat");
    agent.worker.tell(new AgentWorker.Assign(exchange));
    agent.receive(Frame.RequestStart.class);

    exchange.slot().markGone();

    assertEquals(new Frame.Cancel(1), agent.receive());
    exchange.slot().finished().toCompletableFuture().get(3, TimeUnit.SECONDS);
    agent.dispatcher.expectNoMessage();
    agent.send(new Frame.Failure(1, "cancelled"));
    agent.dispatcher.expectMessage(new AgentWorker.Idle(agent.worker));
    assertFalse(exchange.slot().isAnswered(), "nobody is there to read an answer");
    // Well past the cancel timeout: a confirmed cancel leaves the connection alone.
    agent.dispatcher.expectNoMessage(CANCEL_TIMEOUT.plusMillis(200));
    agent.fromHub.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void shouldCancelWhenTheApplicationStopsReadingAStreamedBody() throws Exception {
    Agent agent = Agent.connect();
    Job exchange = get("/v1/stream");
    agent.worker.tell(new AgentWorker.Assign(exchange));
    agent.receive(Frame.RequestStart.class);
    agent.send(
        new Frame.ResponseStart(
            1, 200, List.of(), "", Frame.UNKNOWN_LENGTH, false, ByteString.emptyByteString()));
    TestSubscriber.Probe<ByteString> body =
        answer(exchange).entity().getDataBytes().runWith(TestSink.create(system), system);
    body.request(1);
    agent.send(new Frame.BodyChunk(1, ByteString.fromString("a"), false));
    assertEquals("a", body.expectNext().utf8String());

    body.cancel();

    assertEquals(new Frame.Cancel(1), agent.receive());
    agent.send(new Frame.Failure(1, "cancelled"));
    agent.dispatcher.expectMessage(new AgentWorker.Idle(agent.worker));
  }

  @Test
  void shouldCloseTheConnectionWhenTheAgentDoesNotConfirmACancelInTime() throws Exception {
    Agent agent = Agent.connect();
    Job exchange = get("/v1/chat");
    agent.worker.tell(new AgentWorker.Assign(exchange));
    agent.receive(Frame.RequestStart.class);

    exchange.slot().markGone();
    assertEquals(new Frame.Cancel(1), agent.receive());

    agent.dispatcher.expectNoMessage(CANCEL_TIMEOUT.minusMillis(200));
    agent.dispatcher.expectMessage(new AgentWorker.Left(agent.worker));
    agent.fromHub.expectComplete();
    // An assignment already on its way goes back to the dispatcher, not into the void.
    Job late = get("/v1/late");
    agent.worker.tell(new AgentWorker.Assign(late));
    agent.dispatcher.expectMessage(new AgentWorker.Bounced(late));
    assertFalse(late.slot().isAnswered());
    agent.worker.tell(AgentWorker.Released.INSTANCE);
    agent.dispatcher.expectTerminated(agent.worker);
  }

  @Test
  void shouldIgnoreLateFramesOfACancelledExchange() throws Exception {
    Agent agent = Agent.connect();
    Job cancelled = get("/v1/first");
    agent.worker.tell(new AgentWorker.Assign(cancelled));
    agent.receive(Frame.RequestStart.class);
    cancelled.slot().markGone();
    assertEquals(new Frame.Cancel(1), agent.receive());

    // The agent had begun answering before it saw the cancel.
    agent.send(
        new Frame.ResponseStart(
            1, 200, List.of(), "", Frame.UNKNOWN_LENGTH, false, ByteString.emptyByteString()),
        new Frame.BodyChunk(1, ByteString.fromString("late"), false),
        new Frame.Failure(1, "cancelled"));
    agent.dispatcher.expectMessage(new AgentWorker.Idle(agent.worker));
    assertFalse(cancelled.slot().isAnswered());

    Job next = get("/v1/second");
    agent.worker.tell(new AgentWorker.Assign(next));
    assertEquals(2, agent.receive(Frame.RequestStart.class).exchange());
    agent.send(
        new Frame.Failure(1, "a stray repeat"),
        new Frame.ResponseStart(2, 200, List.of(), "", 2, true, ByteString.fromString("ok")));

    HttpResponse response = answer(next);
    assertEquals(200, response.status().intValue());
    assertEquals("ok", body(response));
    agent.dispatcher.expectMessage(new AgentWorker.Idle(agent.worker, Outcome.SUCCESS));
  }

  @Test
  void shouldPassTheAgentsReportOnWhetherIdleOrBusy() throws Exception {
    Agent agent = Agent.connect();
    AgentReport unhealthy =
        new AgentReport(false, "GET /health answered 503", 12.5, 40.0, 0.5, null);

    agent.send(new Frame.Report(unhealthy.toJson()));
    agent.dispatcher.expectMessage(new AgentWorker.Reported(agent.worker, unhealthy));

    Job exchange = get("/v1/chat");
    agent.worker.tell(new AgentWorker.Assign(exchange));
    agent.receive(Frame.RequestStart.class);
    agent.send(new Frame.Report(AgentReport.NONE.toJson()));
    agent.dispatcher.expectMessage(new AgentWorker.Reported(agent.worker, AgentReport.NONE));
    assertFalse(exchange.slot().isAnswered(), "a report is no answer");
  }

  @Test
  void shouldLeaveWhenTheAgentSendsAMalformedReport() {
    Agent agent = Agent.connect();

    agent.send(new Frame.Report("{not json"));

    agent.dispatcher.expectMessage(new AgentWorker.Left(agent.worker));
    agent.fromHub.expectComplete();
  }

  @Test
  void shouldLeaveWhenReplacedWhileIdle() {
    Agent agent = Agent.connect();

    agent.worker.tell(AgentWorker.Replace.INSTANCE);

    agent.dispatcher.expectMessage(new AgentWorker.Left(agent.worker));
    agent.fromHub.expectComplete();
    agent.worker.tell(AgentWorker.Released.INSTANCE);
    agent.dispatcher.expectTerminated(agent.worker);
  }

  @Test
  void shouldLeaveWhenTheAgentSendsAFrameWhileIdle() {
    Agent agent = Agent.connect();

    agent.send(
        new Frame.ResponseStart(7, 200, List.of(), "", 0, true, ByteString.emptyByteString()));

    agent.dispatcher.expectMessage(new AgentWorker.Left(agent.worker));
    agent.fromHub.expectComplete();
  }

  /** A running worker whose socket the test holds from the agent's side. */
  private static final class Agent {
    final ActorRef<AgentWorker.Command> worker;
    final TestProbe<AgentWorker.Report> dispatcher;
    final TestPublisher.Probe<Message> toHub;
    final TestSubscriber.Probe<Message> fromHub;

    private Agent(
        ActorRef<AgentWorker.Command> worker,
        TestProbe<AgentWorker.Report> dispatcher,
        TestPublisher.Probe<Message> toHub,
        TestSubscriber.Probe<Message> fromHub) {
      this.worker = worker;
      this.dispatcher = dispatcher;
      this.toHub = toHub;
      this.fromHub = fromHub;
    }

    static Agent connect() {
      TestProbe<AgentWorker.Report> dispatcher = testKit.createTestProbe();
      TestProbe<Flow<Message, Message, NotUsed>> flows = testKit.createTestProbe();
      ActorRef<AgentWorker.Command> worker =
          testKit.spawn(
              AgentWorker.create(
                  PROFILE, dispatcher.ref(), SETTINGS, new AgentTraffic(), flows.ref()));
      Pair<TestPublisher.Probe<Message>, TestSubscriber.Probe<Message>> sides =
          TestSource.<Message>create(system)
              .via(flows.receiveMessage())
              .toMat(TestSink.create(system), Keep.both())
              .run(system);
      dispatcher.expectMessage(new AgentWorker.Joined(worker, PROFILE));
      sides.second().ensureSubscription();
      return new Agent(worker, dispatcher, sides.first(), sides.second());
    }

    void send(Frame... frames) {
      for (Frame frame : frames) {
        toHub.sendNext(BinaryMessage.create(FrameCodec.encode(frame)));
      }
    }

    Frame receive() {
      return FrameCodec.decode(fromHub.requestNext().asBinaryMessage().getStrictData());
    }

    <T extends Frame> T receive(Class<T> type) {
      return assertInstanceOf(type, receive());
    }
  }

  private static Job get(String path) {
    return Job.of(ProxiedRequest.of("GET", path, path, List.of(), HttpEntities.EMPTY, null, false));
  }

  private static HttpResponse answer(Job exchange) throws Exception {
    return exchange.slot().response().toCompletableFuture().get(3, TimeUnit.SECONDS);
  }

  private static String body(HttpResponse response) throws Exception {
    return response
        .entity()
        .toStrict(3000, system)
        .toCompletableFuture()
        .get(3, TimeUnit.SECONDS)
        .getData()
        .utf8String();
  }

  private static void assertAgentLost(HttpResponse response) {
    assertEquals(502, response.status().intValue());
    assertEquals("agent-lost", response.getHeader("Slime-Error").orElseThrow().value());
  }

  /** The worker gives a failed exchange back to the dispatcher, with the answer to give. */
  private static HttpResponse expectRetry(Agent agent, Job exchange) {
    return expectRetryOf(agent, exchange).error();
  }

  private static AgentWorker.Failed expectRetryOf(Agent agent, Job exchange) {
    AgentWorker.Failed retry = agent.dispatcher.expectMessageClass(AgentWorker.Failed.class);
    // The same request and slot; the job may carry the failure charged to the agent.
    assertSame(exchange.slot(), retry.job().slot());
    assertEquals(exchange.request().target(), retry.job().request().target());
    assertEquals(PROFILE.agentId(), retry.failedAgent());
    assertFalse(exchange.slot().isAnswered(), "the dispatcher answers it, or retries it");
    return retry;
  }
}
