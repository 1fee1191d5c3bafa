package io.slime.hub.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slime.hub.health.PassiveHealth;
import io.slime.hub.model.Acceptance;
import io.slime.hub.model.Demand;
import io.slime.hub.model.Job;
import io.slime.hub.model.Outcome;
import io.slime.hub.model.ProxiedRequest;
import io.slime.hub.model.ProxyError;
import io.slime.hub.model.RequestTraits;
import io.slime.hub.model.WorkerProfile;
import io.slime.hub.policy.Policy;
import io.slime.hub.replicated.AgentControl;
import io.slime.hub.stats.AgentTrafficRegistry;
import io.slime.hub.stats.TrafficStats;
import io.slime.hub.worker.AgentWorker;
import io.slime.shared.agent.AgentReport;
import io.slime.shared.agent.AgentTerms;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RetryAfter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The dispatcher's traffic policy with probes for workers: policies, labels, priorities,
 * per-request wait bounds, per-minute limits, health, operator controls and retries.
 */
class TrafficPolicyTest {
  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final Duration LONG_WAIT = Duration.ofMinutes(1);
  private static final PassiveHealth.Settings EJECT_AFTER_2 =
      new PassiveHealth.Settings(
          2, Duration.ofMillis(400), Duration.ofSeconds(5), true, Duration.ZERO);
  private static final DispatchSettings.Retries RETRY_GET =
      new DispatchSettings.Retries(Set.of("GET"), 20, 10);

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static ActorRef<Dispatcher.Command> dispatcher(
      AgentTerms defaults, PassiveHealth.Settings health, Policy ipHashFallback) {
    DispatchSettings settings =
        new DispatchSettings(100, LONG_WAIT, 9, defaults, health, RETRY_GET, ipHashFallback, null);
    return testKit.spawn(
        Dispatcher.create(settings, new AgentTrafficRegistry(), new TrafficStats()));
  }

  private static ActorRef<Dispatcher.Command> dispatcher() {
    return dispatcher(new AgentTerms(1, null, 0L, 0L), PassiveHealth.Settings.OFF, Policy.FIFO);
  }

  private static WorkerProfile agent(String id, int index, AgentTerms terms) {
    return new WorkerProfile(
        id,
        "agent-" + id,
        index,
        0,
        new Acceptance(List.of(), List.of(), terms.labels()),
        terms,
        "127.0.0.1",
        "test");
  }

  private static WorkerProfile agent(String id, int index) {
    return agent(id, index, AgentTerms.NONE);
  }

  private static TestProbe<AgentWorker.Command> join(
      ActorRef<Dispatcher.Command> dispatcher, WorkerProfile profile) {
    TestProbe<AgentWorker.Command> worker = testKit.createTestProbe();
    dispatcher.tell(new Dispatcher.WorkerJoined(worker.ref(), profile));
    worker.expectNoMessage(Duration.ofMillis(20));
    return worker;
  }

  private static Job request(RequestTraits traits) {
    return Job.of(
        ProxiedRequest.of(
            "GET",
            traits.demand().path(),
            traits.demand().path(),
            List.of(),
            HttpEntities.EMPTY,
            traits));
  }

  private static RequestTraits traits(Policy policy, boolean block) {
    return new RequestTraits(Demand.of(null, "/x"), block, 0, LONG_WAIT, policy, "10.0.0.1");
  }

  /** Which of {@code workers} got {@code exchange}; fails when none did. */
  private static String servedBy(
      Job exchange, Map<String, TestProbe<AgentWorker.Command>> workers) {
    long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
    while (System.nanoTime() < deadline) {
      for (Map.Entry<String, TestProbe<AgentWorker.Command>> w : workers.entrySet()) {
        AgentWorker.Command got;
        try {
          got = w.getValue().receiveMessage(Duration.ofMillis(2));
        } catch (AssertionError nothingYet) {
          continue;
        }
        if (got instanceof AgentWorker.Assign a && a.job().slot() == exchange.slot()) {
          return w.getKey();
        }
        throw new AssertionError(w.getKey() + " got " + got);
      }
    }
    throw new AssertionError("no worker got the request");
  }

  private static HttpResponse answer(Job exchange) throws Exception {
    return exchange.slot().response().toCompletableFuture().get(3, TimeUnit.SECONDS);
  }

  private static String body(HttpResponse response) throws Exception {
    return response
        .entity()
        .toStrict(3_000, org.apache.pekko.stream.Materializer.matFromSystem(testKit.system()))
        .toCompletableFuture()
        .get(3, TimeUnit.SECONDS)
        .getData()
        .utf8String();
  }

  private static String code(HttpResponse response) {
    return response.getHeader("Slime-Error").map(h -> h.value()).orElse(null);
  }

  @Test
  void shouldSpreadRequestsByWeightAmongIdleAgentsUnderWeighted() {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    Map<String, TestProbe<AgentWorker.Command>> workers = new HashMap<>();
    workers.put("light", join(dispatcher, agent("light", 0, new AgentTerms(1, null, null, null))));
    workers.put("heavy", join(dispatcher, agent("heavy", 0, new AgentTerms(4, null, null, null))));
    Map<String, Integer> counts = new HashMap<>();
    int n = 400;
    for (int i = 0; i < n; i++) {
      Job e = request(traits(Policy.WEIGHTED, false));
      dispatcher.tell(new Dispatcher.Dispatch(e));
      String by = servedBy(e, workers);
      counts.merge(by, 1, Integer::sum);
      dispatcher.tell(new Dispatcher.WorkerIdle(workers.get(by).ref(), Outcome.SUCCESS));
    }
    // Expected 80%; with 400 picks the standard error is 2%, so 10% is a wide margin.
    double heavy = counts.getOrDefault("heavy", 0) / (double) n;
    assertEquals(0.8, heavy, 0.1, "heavy's share " + counts);
  }

  @Test
  void shouldNarrowTheCandidatesToAgentsWithTheLabelsOfSlimeSelect() throws Exception {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    TestProbe<AgentWorker.Command> mistral =
        join(
            dispatcher,
            agent("m", 0, new AgentTerms(null, Map.of("model", "mistral"), null, null)));
    TestProbe<AgentWorker.Command> llama =
        join(
            dispatcher, agent("l", 0, new AgentTerms(null, Map.of("model", "llama3"), null, null)));
    Job wantsLlama =
        request(
            new RequestTraits(
                new Demand(null, "/x", Map.of("model", "llama3"), null),
                false,
                0,
                LONG_WAIT,
                Policy.FIFO,
                ""));
    dispatcher.tell(new Dispatcher.Dispatch(wantsLlama));
    expectAssigned(llama, wantsLlama);
    mistral.expectNoMessage(Duration.ofMillis(50));

    Job wantsGpt =
        request(
            new RequestTraits(
                new Demand(null, "/x", Map.of("model", "gpt"), null),
                false,
                0,
                LONG_WAIT,
                Policy.FIFO,
                ""));
    dispatcher.tell(new Dispatcher.Dispatch(wantsGpt));
    HttpResponse refused = answer(wantsGpt);
    assertEquals("no-matching-worker", code(refused));
    assertTrue(body(refused).contains("labels Slime-Select asks for (model=gpt)"), body(refused));
  }

  @Test
  void shouldNameEachAgentAndWhyItTakesNothingWhenNoWorkerIsAvailable() throws Exception {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    join(dispatcher, agent("idle-but-weightless", 0, new AgentTerms(0, null, null, null)));

    Job exchange = request(traits(Policy.FIFO, false));
    dispatcher.tell(new Dispatcher.Dispatch(exchange));

    HttpResponse refused = answer(exchange);
    assertEquals("no-available-worker", code(refused));
    assertTrue(body(refused).contains("agent-idle-but-weightless: weight 0"), body(refused));
  }

  @Test
  void shouldKeepAClientOnOneAgentByIpHashAndWaitForItWhenConfigured() throws Exception {
    ActorRef<Dispatcher.Command> dispatcher =
        dispatcher(new AgentTerms(1, null, 0L, 0L), PassiveHealth.Settings.OFF, null);
    Map<String, TestProbe<AgentWorker.Command>> workers = new HashMap<>();
    for (String id : List.of("a", "b", "c")) {
      workers.put(id, join(dispatcher, agent(id, 0)));
    }
    String first = null;
    for (int i = 0; i < 10; i++) {
      Job e = request(traits(Policy.IP_HASH, false));
      dispatcher.tell(new Dispatcher.Dispatch(e));
      String by = servedBy(e, workers);
      if (first == null) {
        first = by;
      }
      assertEquals(first, by, "the same client goes to the same agent");
      dispatcher.tell(new Dispatcher.WorkerIdle(workers.get(by).ref()));
    }
    // Its agent busy: the request waits for that agent, not for the others, which stay idle.
    Job holds = request(traits(Policy.IP_HASH, false));
    dispatcher.tell(new Dispatcher.Dispatch(holds));
    servedBy(holds, workers);
    Job waits = request(traits(Policy.IP_HASH, true));
    dispatcher.tell(new Dispatcher.Dispatch(waits));
    for (Map.Entry<String, TestProbe<AgentWorker.Command>> w : workers.entrySet()) {
      w.getValue().expectNoMessage(Duration.ofMillis(30));
    }
    dispatcher.tell(new Dispatcher.WorkerIdle(workers.get(first).ref()));
    expectAssigned(workers.get(first), waits);
  }

  @Test
  void shouldFallBackFromIpHashToAnotherPolicyWhenItsAgentIsBusy() {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    Map<String, TestProbe<AgentWorker.Command>> workers = new HashMap<>();
    for (String id : List.of("a", "b")) {
      workers.put(id, join(dispatcher, agent(id, 0)));
    }
    Job first = request(traits(Policy.IP_HASH, false));
    dispatcher.tell(new Dispatcher.Dispatch(first));
    String owner = servedBy(first, workers);
    Job second = request(traits(Policy.IP_HASH, false));
    dispatcher.tell(new Dispatcher.Dispatch(second));
    assertFalse(servedBy(second, workers).equals(owner), "the other agent, by fifo");
  }

  @Test
  void shouldLetHigherPriorityOvertakeAndServeFirstComeFirstServedWithinOne() {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    TestProbe<AgentWorker.Command> worker = join(dispatcher, agent("a", 0));
    Job busy = request(traits(Policy.FIFO, false));
    dispatcher.tell(new Dispatcher.Dispatch(busy));
    expectAssigned(worker, busy);
    Job low1 = request(withPriority(0));
    Job low2 = request(withPriority(0));
    Job high = request(withPriority(7));
    Job mid = request(withPriority(3));
    for (Job e : List.of(low1, low2, high, mid)) {
      dispatcher.tell(new Dispatcher.Dispatch(e));
    }
    for (Job next : List.of(high, mid, low1, low2)) {
      dispatcher.tell(new Dispatcher.WorkerIdle(worker.ref()));
      expectAssigned(worker, next);
    }
  }

  private static RequestTraits withPriority(int priority) {
    return new RequestTraits(Demand.of(null, "/x"), true, priority, LONG_WAIT, Policy.FIFO, "");
  }

  @Test
  void shouldNotLetARequestWaitLongerThanItsOwnTimeout() throws Exception {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    TestProbe<AgentWorker.Command> worker = join(dispatcher, agent("a", 0));
    dispatcher.tell(new Dispatcher.Dispatch(request(traits(Policy.FIFO, false))));
    worker.receiveMessage();
    Job patient = request(traits(Policy.FIFO, true));
    Job hurried =
        request(
            new RequestTraits(
                Demand.of(null, "/x"), true, 0, Duration.ofMillis(150), Policy.FIFO, ""));
    dispatcher.tell(new Dispatcher.Dispatch(patient));
    dispatcher.tell(new Dispatcher.Dispatch(hurried));

    HttpResponse timedOut = answer(hurried);
    assertEquals(503, timedOut.status().intValue());
    assertEquals("wait-timeout", code(timedOut));
    assertTrue(timedOut.getHeader(RetryAfter.class).isPresent());
    assertFalse(patient.slot().isAnswered(), "the other keeps waiting");
    dispatcher.tell(new Dispatcher.WorkerIdle(worker.ref()));
    expectAssigned(worker, patient);
  }

  @Test
  void shouldGiveAnAgentAtItsRequestsPerMinuteNoMoreAndSayWhenToComeBackIn429() throws Exception {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    TestProbe<AgentWorker.Command> worker =
        join(dispatcher, agent("a", 0, new AgentTerms(null, null, 2L, null)));
    for (int i = 0; i < 2; i++) {
      Job e = request(traits(Policy.FIFO, false));
      dispatcher.tell(new Dispatcher.Dispatch(e));
      expectAssigned(worker, e);
      dispatcher.tell(new Dispatcher.WorkerIdle(worker.ref()));
    }
    Job third = request(traits(Policy.FIFO, false));
    dispatcher.tell(new Dispatcher.Dispatch(third));
    HttpResponse limited = answer(third);
    assertEquals(429, limited.status().intValue());
    assertEquals(ProxyError.AGENT_LIMIT.code(), code(limited));
    long retryAfter = Long.parseLong(limited.getHeader("Retry-After").orElseThrow().value());
    assertTrue(retryAfter >= 1 && retryAfter <= 60, "Retry-After " + retryAfter);
    worker.expectNoMessage(Duration.ofMillis(50));

    // An operator lifts the limit: the waiting request is served at once.
    Job waits = request(traits(Policy.FIFO, true));
    dispatcher.tell(new Dispatcher.Dispatch(waits));
    worker.expectNoMessage(Duration.ofMillis(50));
    dispatcher.tell(
        new Dispatcher.ControlsChanged(Map.of("a", new AgentControl(null, 0L, null, false))));
    expectAssigned(worker, waits);
  }

  @Test
  void shouldGiveAnUnhealthyAgentNothingUntilItReportsHealthyAgain() throws Exception {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    TestProbe<AgentWorker.Command> worker = join(dispatcher, agent("a", 0));
    dispatcher.tell(
        new Dispatcher.WorkerReported(
            worker.ref(),
            new AgentReport(false, "GET /health answered 503", null, null, null, null)));
    Job refused = request(traits(Policy.FIFO, false));
    dispatcher.tell(new Dispatcher.Dispatch(refused));
    assertEquals("no-available-worker", code(answer(refused)));

    Job waits = request(traits(Policy.FIFO, true));
    dispatcher.tell(new Dispatcher.Dispatch(waits));
    worker.expectNoMessage(Duration.ofMillis(50));
    dispatcher.tell(new Dispatcher.WorkerReported(worker.ref(), AgentReport.NONE));
    expectAssigned(worker, waits);
  }

  @Test
  void shouldEjectAnAgentThatKeepsFailingForItsCooldownThenLetItBack() throws Exception {
    ActorRef<Dispatcher.Command> dispatcher =
        dispatcher(new AgentTerms(1, null, 0L, 0L), EJECT_AFTER_2, Policy.FIFO);
    TestProbe<AgentWorker.Command> failing = join(dispatcher, agent("bad", 0));
    for (int i = 0; i < 2; i++) {
      Job e = request(traits(Policy.FIFO, false));
      dispatcher.tell(new Dispatcher.Dispatch(e));
      expectAssigned(failing, e);
      dispatcher.tell(
          new Dispatcher.WorkerIdle(failing.ref(), i == 0 ? Outcome.FAILED : Outcome.SERVER_ERROR));
    }
    Job refused = request(traits(Policy.FIFO, false));
    dispatcher.tell(new Dispatcher.Dispatch(refused));
    assertEquals("no-available-worker", code(answer(refused)), "ejected");

    Job waits = request(traits(Policy.FIFO, true));
    dispatcher.tell(new Dispatcher.Dispatch(waits));
    // The cooldown is 400 ms; readmission is noticed at the next one-second tick.
    failing.expectMessage(Duration.ofSeconds(3), new AgentWorker.Assign(waits));
  }

  @Test
  void shouldGiveADrainedOrWeightZeroAgentNothing() throws Exception {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    TestProbe<AgentWorker.Command> worker = join(dispatcher, agent("a", 0));
    dispatcher.tell(
        new Dispatcher.ControlsChanged(Map.of("a", new AgentControl(0, null, null, false))));
    Job refused = request(traits(Policy.WEIGHTED, false));
    dispatcher.tell(new Dispatcher.Dispatch(refused));
    assertEquals("no-available-worker", code(answer(refused)));
    dispatcher.tell(new Dispatcher.ControlsChanged(Map.of()));
    Job served = request(traits(Policy.WEIGHTED, false));
    dispatcher.tell(new Dispatcher.Dispatch(served));
    expectAssigned(worker, served);
  }

  @Test
  void shouldRetryAFailedIdempotentRequestOnceOnAnotherAgent() throws Exception {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    TestProbe<AgentWorker.Command> first = join(dispatcher, agent("a", 0));
    TestProbe<AgentWorker.Command> second = join(dispatcher, agent("b", 0));
    Job e = request(traits(Policy.FIFO, false));
    dispatcher.tell(new Dispatcher.Dispatch(e));
    expectAssigned(first, e);

    dispatcher.tell(new Dispatcher.Retry(e, "a", ProxyError.UPSTREAM_FAILED.response("down")));
    Job retried = expectAssigned(second, e);
    assertTrue(retried.request().retried());
    assertFalse(e.slot().isAnswered());

    // Never twice: the second failure is answered.
    dispatcher.tell(new Dispatcher.WorkerIdle(first.ref()));
    dispatcher.tell(
        new Dispatcher.Retry(retried, "b", ProxyError.UPSTREAM_FAILED.response("down too")));
    HttpResponse response = answer(e);
    assertEquals(502, response.status().intValue());
    first.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void shouldAnswerNotRetryAPostOrAFailureWithNoOtherIdleWorker() throws Exception {
    ActorRef<Dispatcher.Command> dispatcher = dispatcher();
    TestProbe<AgentWorker.Command> only = join(dispatcher, agent("a", 0));
    Job get = request(traits(Policy.FIFO, true));
    dispatcher.tell(new Dispatcher.Dispatch(get));
    expectAssigned(only, get);
    dispatcher.tell(new Dispatcher.Retry(get, "a", ProxyError.AGENT_LOST.response()));
    assertEquals("agent-lost", code(answer(get)), "no other worker is idle right now");

    TestProbe<AgentWorker.Command> other = join(dispatcher, agent("b", 0));
    Job post =
        Job.of(
            ProxiedRequest.of(
                "POST",
                "/x",
                "/x",
                List.of(),
                HttpEntities.create("{}"),
                traits(Policy.FIFO, false)));
    dispatcher.tell(new Dispatcher.Retry(post, "a", ProxyError.UPSTREAM_FAILED.response("x")));
    assertEquals(502, answer(post).status().intValue());
    other.expectNoMessage(Duration.ofMillis(50));
  }

  /**
   * {@code worker} receives {@code job}: its request and slot, maybe pinned to an agent or marked a
   * retry on the way.
   */
  private static Job expectAssigned(TestProbe<AgentWorker.Command> worker, Job job) {
    AgentWorker.Assign assign = worker.expectMessageClass(AgentWorker.Assign.class);
    assertSame(job.slot(), assign.job().slot());
    assertEquals(job.request().target(), assign.job().request().target());
    return assign.job();
  }
}
