package io.slime.agent.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.slime.agent.connection.HubConnection;
import io.slime.agent.settings.AgentSettings;
import io.slime.agent.testing.TestUpstream;
import io.slime.shared.agent.AgentReport;
import io.slime.shared.net.ServiceAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The monitor against a real upstream, with probes standing in for the agent's workers. */
class AgentMonitorTest {
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

  private static AgentSettings settings(String upstreamAddress, String overrides) {
    return AgentSettings.create(
        ConfigFactory.parseString(
                "slime.agent { token = t, hub = \"127.0.0.1:1\", upstreams = \""
                    + upstreamAddress
                    + "\", report-interval = 200ms,"
                    + " health-check { interval = 100ms, timeout = 2s } }\n"
                    + overrides)
            .withFallback(ConfigFactory.defaultReference())
            .resolve());
  }

  private static ActorRef<AgentMonitor.Command> monitor(
      AgentSettings settings, List<TestProbe<HubConnection.Command>> workers) {
    ServiceAddress address = settings.upstreams().get(0);
    return testKit.spawn(
        AgentMonitor.create(
            settings, "monitored", address, workers.stream().map(TestProbe::ref).toList()));
  }

  /** The first report from now on that {@code wanted} accepts. */
  private static AgentReport await(
      TestProbe<HubConnection.Command> worker, Predicate<AgentReport> wanted) {
    List<HubConnection.Command> seen =
        worker.fishForMessage(
            WAIT,
            m ->
                m instanceof HubConnection.NewReport r && wanted.test(r.report())
                    ? FishingOutcomes.complete()
                    : FishingOutcomes.continueAndIgnore());
    return ((HubConnection.NewReport) seen.get(seen.size() - 1)).report();
  }

  private static AgentReport next(TestProbe<HubConnection.Command> worker) {
    return worker.expectMessageClass(HubConnection.NewReport.class, WAIT).report();
  }

  @Test
  void shouldReportHealthyWithoutACheckAndTheLoadToEveryWorker() {
    TestProbe<HubConnection.Command> a = testKit.createTestProbe();
    TestProbe<HubConnection.Command> b = testKit.createTestProbe();
    ActorRef<AgentMonitor.Command> monitor =
        monitor(settings(upstream.address(), ""), List.of(a, b));

    AgentReport first = next(a);
    assertTrue(first.healthy());
    assertNull(first.healthDetail());
    assertNull(first.cpuPercent(), "the CPU's use takes two samples");
    assertEquals(first, next(b));

    if (Files.isReadable(Path.of("/proc/stat"))) {
      AgentReport measured = await(a, r -> r.cpuPercent() != null);
      assertTrue(measured.healthy());
      assertNotNull(measured.memoryPercent());
      assertNotNull(measured.load1());
      // Then one every report-interval.
      await(b, r -> r.cpuPercent() != null);
      next(a);
    }
    testKit.stop(monitor);
  }

  @Test
  void shouldFollowTheUpstreamsHealthPath() {
    upstream.healthStatus(503);
    TestProbe<HubConnection.Command> worker = testKit.createTestProbe();
    ActorRef<AgentMonitor.Command> monitor =
        monitor(
            settings(
                upstream.address(),
                "slime.agent.health-check { path = /health, unhealthy-after = 2 }"),
            List.of(worker));

    AgentReport first = next(worker);
    assertFalse(first.healthy());
    assertEquals("waiting for the first health check", first.healthDetail());
    AgentReport failing =
        await(worker, r -> !"waiting for the first health check".equals(r.healthDetail()));
    assertFalse(failing.healthy());
    assertEquals("GET /health answered 503", failing.healthDetail());

    upstream.healthStatus(200);
    AgentReport healthy = await(worker, AgentReport::healthy);
    assertNull(healthy.healthDetail());

    upstream.healthStatus(500);
    AgentReport down = await(worker, r -> !r.healthy());
    assertEquals("GET /health answered 500", down.healthDetail());

    upstream.healthStatus(302);
    assertTrue(await(worker, AgentReport::healthy).healthy(), "a redirect passes");
    testKit.stop(monitor);
    upstream.healthStatus(200);
  }

  @Test
  void shouldFailACheckThatTimesOutAndOneThatCannotConnect() throws Exception {
    TestProbe<HubConnection.Command> worker = testKit.createTestProbe();
    ActorRef<AgentMonitor.Command> hung =
        monitor(
            settings(upstream.address(), "slime.agent.health-check.path = /pending"),
            List.of(worker));
    assertEquals(
        "GET /pending timed out after 2s",
        await(worker, r -> !"waiting for the first health check".equals(r.healthDetail()))
            .healthDetail());
    testKit.stop(hung);

    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    TestProbe<HubConnection.Command> other = testKit.createTestProbe();
    ActorRef<AgentMonitor.Command> refused =
        monitor(
            settings("127.0.0.1:" + closedPort + "/api", "slime.agent.health-check.path = /health"),
            List.of(other));
    assertEquals(
        "GET /api/health failed: Connection refused",
        await(other, r -> !"waiting for the first health check".equals(r.healthDetail()))
            .healthDetail());
    testKit.stop(refused);
  }

  @Test
  void shouldWriteDurationsAsTheSettingsDo() {
    assertEquals("2s", AgentMonitor.brief(Duration.ofSeconds(2)));
    assertEquals("90s", AgentMonitor.brief(Duration.ofSeconds(90)));
    assertEquals("1500ms", AgentMonitor.brief(Duration.ofMillis(1500)));
  }
}
