package io.slime.hub.dispatch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.slime.hub.model.Acceptance;
import io.slime.hub.model.Demand;
import io.slime.hub.model.Job;
import io.slime.hub.model.ProxiedRequest;
import io.slime.hub.model.WorkerProfile;
import io.slime.hub.peer.ForwardedRequest;
import io.slime.hub.peer.RemoteRequest;
import io.slime.hub.stats.AgentTrafficRegistry;
import io.slime.hub.stats.TrafficStats;
import io.slime.hub.worker.AgentWorker;
import io.slime.shared.protocol.Header;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RetryAfter;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;
import org.apache.pekko.serialization.jackson.JacksonCborSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class DispatcherTest {

  /** A cluster node that never joins: enough for a dispatcher that deals with other nodes. */
  private static final ActorTestKit testKit =
      ActorTestKit.create(
          "DispatcherTest",
          ConfigFactory.parseString(
                  "pekko.actor.provider = cluster\n"
                      + "pekko.remote.artery.canonical.port = 0\n"
                      + "pekko.cluster.jmx.multi-mbeans-in-same-jvm = on")
              .withFallback(ConfigFactory.load()));

  /** Long enough that a 503 seen within a test never comes from the wait limit. */
  private static final Duration LONG_WAIT = Duration.ofMinutes(1);

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void shouldGiveARequestToAnIdleWorker() {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    TestProbe<AgentWorker.Command> worker = join(dispatcher, profile("a", 0));
    Job exchange = exchange("/v1/chat", null, false);

    dispatcher.tell(new Dispatcher.Dispatch(exchange));

    worker.expectMessage(new AgentWorker.Assign(exchange));
    assertFalse(exchange.slot().isAnswered(), "the worker answers, not the dispatcher");
    expectStats(dispatcher, 1, 0, 0);
  }

  @Test
  void shouldAnswerNoAgentAtOnceWhenNoWorkerIsConnected() throws Exception {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    Job exchange = exchange("/v1/chat", null, false);

    dispatcher.tell(new Dispatcher.Dispatch(exchange));

    assertRejected(exchange, 503, "no-agent", false);
  }

  @Test
  void shouldAnswerNoIdleWorkerAtOnceWhenAllAreBusyAndTheRequestDoesNotBlock() throws Exception {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    TestProbe<AgentWorker.Command> worker = join(dispatcher, profile("a", 0));
    occupy(dispatcher, worker);
    Job exchange = exchange("/v1/chat", null, false);

    dispatcher.tell(new Dispatcher.Dispatch(exchange));

    assertRejected(exchange, 503, "no-idle-worker", false);
    worker.expectNoMessage();
  }

  @Test
  void shouldHoldABlockingRequestUntilAWorkerIsIdleAndServeWaitersInArrivalOrder() {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    TestProbe<AgentWorker.Command> worker = join(dispatcher, profile("a", 0));
    occupy(dispatcher, worker);
    Job first = exchange("/one", null, true);
    Job second = exchange("/two", null, true);
    Job third = exchange("/three", null, true);

    dispatcher.tell(new Dispatcher.Dispatch(first));
    dispatcher.tell(new Dispatcher.Dispatch(second));
    dispatcher.tell(new Dispatcher.Dispatch(third));

    worker.expectNoMessage();
    expectStats(dispatcher, 1, 0, 3);
    assertFalse(first.slot().isAnswered());
    for (Job next : List.of(first, second, third)) {
      dispatcher.tell(new Dispatcher.WorkerIdle(worker.ref()));
      worker.expectMessage(new AgentWorker.Assign(next));
    }
    expectStats(dispatcher, 1, 0, 0);
  }

  @Test
  void shouldReturnALoanWhenTheLendersOwnWaitingRequestCameFirst() {
    ActorRef<Dispatcher.Command> dispatcher =
        testKit.spawn(
            Dispatcher.create(
                DispatchSettings.alone(100, LONG_WAIT)
                    .withPeers(new DispatchSettings.Peers(Duration.ofMillis(20), 64 * 1024)),
                new AgentTrafficRegistry(),
                new TrafficStats()));
    TestProbe<AgentWorker.Command> worker = join(dispatcher, profile("a", 0));
    occupy(dispatcher, worker);
    Job waiting = exchange("/here", null, true);
    dispatcher.tell(new Dispatcher.Dispatch(waiting));
    TestProbe<Dispatcher.Command> lender = testKit.createTestProbe();
    long now = System.currentTimeMillis();

    // The lender's own request waited longer than any here: its view of this node was stale.
    Waiter earlier = new Waiter(waiting.request().demand(), 0, now - 60_000);
    dispatcher.tell(new Dispatcher.Lend(lender.ref(), 7, profile("far", 0), earlier));
    lender.expectMessage(new Dispatcher.LoanReturned(7));
    assertFalse(waiting.slot().isAnswered());
    // Still waiting here, for the next worker. (Accepting a loan forwards the request to the
    // lender's node: ClusterIT covers that part.)
    expectStats(dispatcher, 1, 0, 1);
  }

  @Test
  void shouldUseTheLongestIdleWorkerFirst() {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    TestProbe<AgentWorker.Command> a = join(dispatcher, profile("a", 0));
    TestProbe<AgentWorker.Command> b = join(dispatcher, profile("a", 1));
    TestProbe<AgentWorker.Command> c = join(dispatcher, profile("b", 0));

    // Joined in order a, b, c: a is idle the longest.
    occupy(dispatcher, a);
    occupy(dispatcher, b);
    // b finishes before a: c, then b, then a.
    dispatcher.tell(new Dispatcher.WorkerIdle(b.ref()));
    dispatcher.tell(new Dispatcher.WorkerIdle(a.ref()));
    occupy(dispatcher, c);
    occupy(dispatcher, b);
    occupy(dispatcher, a);
    a.expectNoMessage();
    b.expectNoMessage();
    c.expectNoMessage();
  }

  @Test
  void shouldGiveAScopedRequestOnlyToAWorkerOfThatScope() throws Exception {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    TestProbe<AgentWorker.Command> plain = join(dispatcher, profile("a", 0));
    TestProbe<AgentWorker.Command> gpu =
        join(dispatcher, new WorkerProfile("b", "gpu-box", 0, List.of("gpu"), List.of()));
    Job scoped = exchange("/v1/chat", "gpu", false);

    dispatcher.tell(new Dispatcher.Dispatch(scoped));

    gpu.expectMessage(new AgentWorker.Assign(scoped));
    plain.expectNoMessage();

    // The only worker of that scope is busy: the idle plain worker is no substitute.
    Job another = exchange("/v1/chat", "gpu", false);
    dispatcher.tell(new Dispatcher.Dispatch(another));
    assertRejected(another, 503, "no-idle-worker", false);

    // A request without a scope may go to a scoped worker.
    dispatcher.tell(new Dispatcher.WorkerIdle(gpu.ref()));
    occupy(dispatcher, plain);
    occupy(dispatcher, gpu);
  }

  @Test
  void shouldMatchRequestsWithoutScopeByTheWorkersPaths() throws Exception {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    TestProbe<AgentWorker.Command> exact =
        join(dispatcher, new WorkerProfile("a", "exact", 0, List.of(), List.of("/health")));
    TestProbe<AgentWorker.Command> prefix =
        join(dispatcher, new WorkerProfile("b", "prefix", 0, List.of(), List.of("/v1/*")));

    Job underPrefix = exchange("/v1/models", null, false);
    dispatcher.tell(new Dispatcher.Dispatch(underPrefix));
    prefix.expectMessage(new AgentWorker.Assign(underPrefix));
    exact.expectNoMessage();
    dispatcher.tell(new Dispatcher.WorkerIdle(prefix.ref()));

    Job exactPath = exchange("/health", null, false);
    dispatcher.tell(new Dispatcher.Dispatch(exactPath));
    exact.expectMessage(new AgentWorker.Assign(exactPath));
    dispatcher.tell(new Dispatcher.WorkerIdle(exact.ref()));

    // An exact entry is no prefix, and "/v1/*" does not cover "/v1" itself.
    for (String path : List.of("/health/deep", "/v1", "/v2/models")) {
      Job unmatched = exchange(path, null, false);
      dispatcher.tell(new Dispatcher.Dispatch(unmatched));
      assertRejected(unmatched, 503, "no-matching-worker", false);
    }
    exact.expectNoMessage();
    prefix.expectNoMessage();
    expectStats(dispatcher, 2, 2, 0);
  }

  @Test
  void shouldAnswerNoMatchingWorkerForAScopeNoWorkerHas() throws Exception {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    TestProbe<AgentWorker.Command> gpu =
        join(dispatcher, new WorkerProfile("b", "gpu-box", 0, List.of("gpu"), List.of()));
    Job exchange = exchange("/v1/chat", "tpu", false);

    dispatcher.tell(new Dispatcher.Dispatch(exchange));

    assertRejected(exchange, 503, "no-matching-worker", false);
    gpu.expectNoMessage();
  }

  @Test
  void shouldLetAWaitingRequestPassOneThatTheIdleWorkerCannotServe() {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    TestProbe<AgentWorker.Command> plain = join(dispatcher, profile("a", 0));
    occupy(dispatcher, plain);
    Job scoped = exchange("/v1/chat", "gpu", true);
    Job unscoped = exchange("/v1/chat", null, true);
    dispatcher.tell(new Dispatcher.Dispatch(scoped));
    dispatcher.tell(new Dispatcher.Dispatch(unscoped));

    dispatcher.tell(new Dispatcher.WorkerIdle(plain.ref()));

    plain.expectMessage(new AgentWorker.Assign(unscoped));
    TestProbe<AgentWorker.Command> gpu =
        join(dispatcher, new WorkerProfile("b", "gpu-box", 0, List.of("gpu"), List.of()), false);
    gpu.expectMessage(new AgentWorker.Assign(scoped));
  }

  @Test
  void shouldForgetAWaitingRequestWhoseClientLeft() {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    TestProbe<AgentWorker.Command> worker = join(dispatcher, profile("a", 0));
    occupy(dispatcher, worker);
    Job leaving = exchange("/one", null, true);
    Job staying = exchange("/two", null, true);
    dispatcher.tell(new Dispatcher.Dispatch(leaving));
    dispatcher.tell(new Dispatcher.Dispatch(staying));
    expectStats(dispatcher, 1, 0, 2);

    leaving.slot().markGone();

    expectStats(dispatcher, 1, 0, 1);
    dispatcher.tell(new Dispatcher.WorkerIdle(worker.ref()));
    worker.expectMessage(new AgentWorker.Assign(staying));
    dispatcher.tell(new Dispatcher.WorkerIdle(worker.ref()));
    worker.expectNoMessage();
    expectStats(dispatcher, 1, 1, 0);
    assertFalse(leaving.slot().isAnswered(), "nobody is there to read an answer");
  }

  @Test
  void shouldNotGiveAnIdleWorkerARequestWhoseClientLeftBeforeItsAbandonArrived() throws Exception {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    TestProbe<AgentWorker.Command> worker = join(dispatcher, profile("a", 0));
    occupy(dispatcher, worker);
    Job leaving = exchange("/one", null, true);
    dispatcher.tell(new Dispatcher.Dispatch(leaving));
    expectStats(dispatcher, 1, 0, 1);

    // The worker's report is in the mailbox ahead of the Abandon that markGone sends.
    try (Held held = hold(dispatcher)) {
      dispatcher.tell(new Dispatcher.WorkerIdle(worker.ref()));
      leaving.slot().markGone();
    }

    worker.expectNoMessage();
    expectStats(dispatcher, 1, 1, 0);
  }

  @Test
  void shouldAnswerQueueFullPastTheMaximumLength() throws Exception {
    ActorRef<Dispatcher.Command> dispatcher = testKit.spawn(Dispatcher.create(2, LONG_WAIT));
    TestProbe<AgentWorker.Command> worker = join(dispatcher, profile("a", 0));
    occupy(dispatcher, worker);
    dispatcher.tell(new Dispatcher.Dispatch(exchange("/one", null, true)));
    dispatcher.tell(new Dispatcher.Dispatch(exchange("/two", null, true)));
    Job third = exchange("/three", null, true);

    dispatcher.tell(new Dispatcher.Dispatch(third));

    assertRejected(third, 503, "queue-full", true);
    expectStats(dispatcher, 1, 0, 2);
  }

  @Test
  void shouldAnswerWaitTimeoutAfterTheMaximumWait() throws Exception {
    Duration maxWait = Duration.ofMillis(300);
    ActorRef<Dispatcher.Command> dispatcher = testKit.spawn(Dispatcher.create(100, maxWait));
    TestProbe<AgentWorker.Command> worker = join(dispatcher, profile("a", 0));
    occupy(dispatcher, worker);
    Job exchange = exchange("/one", null, true);
    CompletableFuture<Long> answeredAt =
        exchange.slot().response().thenApply(response -> System.nanoTime()).toCompletableFuture();

    dispatcher.tell(new Dispatcher.Dispatch(exchange));

    expectStats(dispatcher, 1, 0, 1);
    assertRejected(exchange, 503, "wait-timeout", true);
    long waited = answeredAt.get() - exchange.request().createdNanos();
    assertTrue(waited >= maxWait.toNanos(), "answered after only " + waited / 1_000_000 + " ms");
    expectStats(dispatcher, 1, 0, 0);
    dispatcher.tell(new Dispatcher.WorkerIdle(worker.ref()));
    worker.expectNoMessage();
  }

  @Test
  void shouldNotKeepCountingARequestThatLeftWhileTheOneAheadExpired() throws Exception {
    Duration maxWait = Duration.ofMillis(300);
    ActorRef<Dispatcher.Command> dispatcher = testKit.spawn(Dispatcher.create(2, maxWait));
    TestProbe<AgentWorker.Command> worker = join(dispatcher, profile("a", 0));
    occupy(dispatcher, worker);
    Job expiring = exchange("/one", null, true);
    Job leaving = exchange("/two", null, true);
    dispatcher.tell(new Dispatcher.Dispatch(expiring));
    dispatcher.tell(new Dispatcher.Dispatch(leaving));

    // Holds the dispatcher inside its expiry run (the answer's callbacks run on its thread), so
    // the second client leaves while the dispatcher still has it queued and its Abandon waits.
    CountDownLatch expiringAnswered = new CountDownLatch(1);
    CountDownLatch leftMeanwhile = new CountDownLatch(1);
    expiring
        .slot()
        .response()
        .thenRun(
            () -> {
              expiringAnswered.countDown();
              awaitQuietly(leftMeanwhile);
            });
    assertTrue(expiringAnswered.await(3, TimeUnit.SECONDS));
    leaving.slot().markGone();
    leftMeanwhile.countDown();

    assertRejected(expiring, 503, "wait-timeout", true);
    expectStats(dispatcher, 1, 0, 0);
    // Both places in the queue are free again.
    Job third = exchange("/three", null, true);
    Job fourth = exchange("/four", null, true);
    dispatcher.tell(new Dispatcher.Dispatch(third));
    dispatcher.tell(new Dispatcher.Dispatch(fourth));
    expectStats(dispatcher, 1, 0, 2);
    assertFalse(
        fourth.slot().isAnswered(),
        "answered " + fourth.slot().response().toCompletableFuture().getNow(null));
  }

  @Test
  void shouldReleaseALeavingWorkerAndNeverAssignToItAgain() throws Exception {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    TestProbe<AgentWorker.Command> worker = join(dispatcher, profile("a", 0));

    dispatcher.tell(new Dispatcher.WorkerLeft(worker.ref()));

    worker.expectMessage(AgentWorker.Released.INSTANCE);
    expectStats(dispatcher, 0, 0, 0);
    // A late idle report from it changes nothing.
    dispatcher.tell(new Dispatcher.WorkerIdle(worker.ref()));
    Job exchange = exchange("/v1/chat", null, true);
    dispatcher.tell(new Dispatcher.Dispatch(exchange));
    worker.expectNoMessage();
    expectStats(dispatcher, 0, 0, 1);
  }

  @Test
  void shouldReleaseABusyWorkerThatLeaves() {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    TestProbe<AgentWorker.Command> worker = join(dispatcher, profile("a", 0));
    occupy(dispatcher, worker);

    dispatcher.tell(new Dispatcher.WorkerLeft(worker.ref()));

    worker.expectMessage(AgentWorker.Released.INSTANCE);
    expectStats(dispatcher, 0, 0, 0);
  }

  @Test
  void shouldReplaceTheOldConnectionOfAWorkerThatJoinsAgain() {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    TestProbe<AgentWorker.Command> old = join(dispatcher, profile("a", 0));
    TestProbe<AgentWorker.Command> other = join(dispatcher, profile("a", 1));

    TestProbe<AgentWorker.Command> renewed = join(dispatcher, profile("a", 0));

    old.expectMessage(AgentWorker.Replace.INSTANCE);
    other.expectNoMessage();
    dispatcher.tell(new Dispatcher.WorkerLeft(old.ref()));
    old.expectMessage(AgentWorker.Released.INSTANCE);
    expectStats(dispatcher, 2, 2, 0);
    occupy(dispatcher, other);
    occupy(dispatcher, renewed);
    old.expectNoMessage();

    // The slot belongs to the new connection: joining once more replaces it, not the old one.
    join(dispatcher, profile("a", 0), false);
    renewed.expectMessage(AgentWorker.Replace.INSTANCE);
  }

  @Test
  void shouldBindAnAgentIdToTheTokenWhoseWorkersHoldIt() {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    TestProbe<Dispatcher.AgentIdAnswer> answers = testKit.createTestProbe();
    dispatcher.tell(new Dispatcher.CheckAgentId("a", 8, answers.ref()));
    answers.expectMessage(Dispatcher.AgentIdFree.INSTANCE);
    TestProbe<AgentWorker.Command> held = join(dispatcher, tokenProfile("a", 0, 7));

    dispatcher.tell(new Dispatcher.CheckAgentId("a", 7, answers.ref()));
    answers.expectMessage(Dispatcher.AgentIdFree.INSTANCE);
    dispatcher.tell(new Dispatcher.CheckAgentId("a", 8, answers.ref()));
    answers.expectMessage(new Dispatcher.AgentIdTaken("agent-a", 7, "this node"));

    // One that passed its check before the holder joined is closed, and replaces nothing.
    TestProbe<AgentWorker.Command> intruder = join(dispatcher, tokenProfile("a", 0, 8), false);
    intruder.expectMessage(AgentWorker.Disconnect.INSTANCE);
    held.expectNoMessage();
    dispatcher.tell(new Dispatcher.WorkerLeft(intruder.ref()));
    intruder.expectMessage(AgentWorker.Released.INSTANCE);
    expectStats(dispatcher, 1, 1, 0);
    occupy(dispatcher, held);

    dispatcher.tell(new Dispatcher.WorkerLeft(held.ref()));
    held.expectMessage(AgentWorker.Released.INSTANCE);
    dispatcher.tell(new Dispatcher.CheckAgentId("a", 8, answers.ref()));
    answers.expectMessage(Dispatcher.AgentIdFree.INSTANCE);
  }

  @Test
  void shouldRefuseAnAgentIdThatAnotherNodeHasUnderAnotherToken() {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    TestProbe<Dispatcher.Command> peer = testKit.createTestProbe();
    TestProbe<Dispatcher.AgentIdAnswer> answers = testKit.createTestProbe();
    AgentSummary there =
        new AgentSummary("b", "gpu-b", 7, Acceptance.ANY, 1, 1, 1, 1, 0, null, 0, 0, 0, 0, 0);
    dispatcher.tell(new Dispatcher.PeerStatus(peer.ref(), List.of(there), List.of(), 0));

    dispatcher.tell(new Dispatcher.CheckAgentId("b", 7, answers.ref()));
    answers.expectMessage(Dispatcher.AgentIdFree.INSTANCE);
    dispatcher.tell(new Dispatcher.CheckAgentId("b", 8, answers.ref()));
    Dispatcher.AgentIdTaken taken = answers.expectMessageClass(Dispatcher.AgentIdTaken.class);
    assertEquals("gpu-b", taken.tokenName());
    assertEquals(7, taken.tokenId());
    assertTrue(taken.node().startsWith("hub node "), taken.node());
  }

  @Test
  void shouldPutARedispatchedRequestFirstInLine() {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    TestProbe<AgentWorker.Command> worker = join(dispatcher, profile("a", 0));
    occupy(dispatcher, worker);
    Job waiting = exchange("/one", null, true);
    Job bounced = exchange("/two", null, true);
    dispatcher.tell(new Dispatcher.Dispatch(waiting));

    dispatcher.tell(new Dispatcher.Redispatch(bounced));

    dispatcher.tell(new Dispatcher.WorkerIdle(worker.ref()));
    worker.expectMessage(new AgentWorker.Assign(bounced));
    dispatcher.tell(new Dispatcher.WorkerIdle(worker.ref()));
    worker.expectMessage(new AgentWorker.Assign(waiting));
  }

  @Test
  void shouldGiveARedispatchedRequestToAnIdleWorkerAtOnce() {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    TestProbe<AgentWorker.Command> worker = join(dispatcher, profile("a", 0));
    Job bounced = exchange("/two", null, false);

    dispatcher.tell(new Dispatcher.Redispatch(bounced));

    worker.expectMessage(new AgentWorker.Assign(bounced));
  }

  @Test
  void shouldSerializeTheMessagesThatMayCrossNodes() {
    TestProbe<Dispatcher.Command> peer = testKit.createTestProbe();
    TestProbe<Dispatcher.Stats> stats = testKit.createTestProbe();
    TestProbe<Integer> count = testKit.createTestProbe();
    TestProbe<NodeView> view = testKit.createTestProbe();
    TestProbe<ForwardedRequest.Command> origin = testKit.createTestProbe();
    WorkerProfile profile =
        new WorkerProfile("id-1", "gpu-box", 2, List.of("gpu"), List.of("/v1/*", "/health"));
    Demand demand = new Demand("gpu", "/v1/chat", Map.of("model", "llama"), null);
    AgentSummary agent =
        new AgentSummary("b", "gpu-b", 7, Acceptance.ANY, 1, 1, 1, 1, 0, null, 0, 0, 0, 0, 0);
    Waiter waiter = new Waiter(demand, 3, 1_700_000_000_000L);
    RemoteRequest request =
        new RemoteRequest(
            "POST",
            "/v1/chat?x=1",
            "/v1/chat",
            List.of(new Header("Content-Type", "application/json")),
            demand,
            "application/json",
            2,
            new byte[] {'{', '}'});
    List<Dispatcher.PeerMessage> messages =
        List.of(
            new Dispatcher.Offer(request, origin.ref(), 4, "b"),
            new Dispatcher.PeerStatus(peer.ref(), List.of(agent), List.of(waiter), 1),
            new Dispatcher.Lend(peer.ref(), 5, profile, waiter),
            new Dispatcher.LoanReturned(5),
            new Dispatcher.GetStats(stats.ref()),
            new Dispatcher.Stats(3, 1, 7),
            new Dispatcher.DisconnectAgent("b", count.ref()),
            new Dispatcher.GetNodeView(view.ref()),
            new NodeView(
                "pekko://hub@127.0.0.1:7355", 2, new TrafficStats().snapshot(), List.of()));

    Set<Class<?>> covered = new HashSet<>();
    for (Dispatcher.PeerMessage message : messages) {
      covered.add(message.getClass());
      assertRoundTrip(message);
    }
    assertEquals(
        Set.of(Dispatcher.PeerMessage.class.getPermittedSubclasses()),
        covered,
        "one sample of every message that crosses nodes");
  }

  /** Through Pekko's serialization, with the serializer its binding picks (jackson-cbor). */
  private static void assertRoundTrip(Object message) {
    Serialization serialization = SerializationExtension.get(testKit.system());
    Serializer serializer = serialization.findSerializerFor(message);
    assertInstanceOf(JacksonCborSerializer.class, serializer, message.toString());
    byte[] bytes = serialization.serialize(message).get();
    Object back =
        serialization
            .deserialize(
                bytes, serializer.identifier(), Serializers.manifestFor(serializer, message))
            .get();
    assertEquals(message.getClass(), back.getClass());
    // Byte for byte the same once serialized again: arrays inside compare by identity otherwise.
    assertArrayEquals(bytes, serialization.serialize(back).get(), message.toString());
    if (!(message instanceof Dispatcher.Offer) && !(message instanceof NodeView)) {
      assertEquals(message, back);
    }
  }

  private static ActorRef<Dispatcher.Command> dispatcher() {
    return testKit.spawn(Dispatcher.create(100, LONG_WAIT));
  }

  private static WorkerProfile profile(String agentId, int workerIndex) {
    return new WorkerProfile(agentId, "agent-" + agentId, workerIndex, List.of(), List.of());
  }

  private static WorkerProfile tokenProfile(String agentId, int workerIndex, long tokenId) {
    return new WorkerProfile(
        agentId, "agent-" + agentId, workerIndex, List.of(), List.of(), tokenId);
  }

  private static Job exchange(String path, String scope, boolean block) {
    return Job.of(
        ProxiedRequest.of("GET", path + "?q=1", path, List.of(), HttpEntities.EMPTY, scope, block));
  }

  /** A new worker probe that joined, with the dispatcher confirmed to have it idle. */
  private static TestProbe<AgentWorker.Command> join(
      ActorRef<Dispatcher.Command> dispatcher, WorkerProfile profile) {
    return join(dispatcher, profile, true);
  }

  private static TestProbe<AgentWorker.Command> join(
      ActorRef<Dispatcher.Command> dispatcher, WorkerProfile profile, boolean expectNoMessage) {
    TestProbe<AgentWorker.Command> worker = testKit.createTestProbe();
    dispatcher.tell(new Dispatcher.WorkerJoined(worker.ref(), profile));
    if (expectNoMessage) {
      worker.expectNoMessage(Duration.ofMillis(20));
    }
    return worker;
  }

  /** Sends a request that {@code worker} must receive, leaving it busy. */
  private static void occupy(
      ActorRef<Dispatcher.Command> dispatcher, TestProbe<AgentWorker.Command> worker) {
    Job exchange = exchange("/busy", null, false);
    dispatcher.tell(new Dispatcher.Dispatch(exchange));
    worker.expectMessage(new AgentWorker.Assign(exchange));
  }

  private static void expectStats(
      ActorRef<Dispatcher.Command> dispatcher, int workers, int idle, int waiting) {
    TestProbe<Dispatcher.Stats> stats = testKit.createTestProbe();
    dispatcher.tell(new Dispatcher.GetStats(stats.ref()));
    stats.expectMessage(new Dispatcher.Stats(workers, idle, waiting));
  }

  private static void assertRejected(Job exchange, int status, String code, boolean retry)
      throws Exception {
    HttpResponse response =
        exchange.slot().response().toCompletableFuture().get(3, TimeUnit.SECONDS);
    assertEquals(status, response.status().intValue());
    assertEquals(code, response.getHeader("Slime-Error").orElseThrow().value());
    assertEquals(retry, response.getHeader(RetryAfter.class).isPresent(), "Retry-After");
    exchange.slot().finished().toCompletableFuture().get(3, TimeUnit.SECONDS);
  }

  /**
   * Keeps the dispatcher busy until closed, so that messages sent meanwhile queue up in its
   * mailbox: the answer to a rejected request runs its callbacks on the dispatcher's thread.
   */
  private static Held hold(ActorRef<Dispatcher.Command> dispatcher) throws Exception {
    CountDownLatch holding = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Job blocker = exchange("/blocker", "no-such-scope", false);
    blocker
        .slot()
        .response()
        .thenRun(
            () -> {
              holding.countDown();
              awaitQuietly(release);
            });
    dispatcher.tell(new Dispatcher.Dispatch(blocker));
    assertTrue(holding.await(3, TimeUnit.SECONDS), "the dispatcher did not answer the blocker");
    return release::countDown;
  }

  private interface Held extends AutoCloseable {
    @Override
    void close();
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(3, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
