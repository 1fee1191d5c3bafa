package io.slime.agent.settings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.slime.shared.agent.AgentTerms;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AgentSettingsTest {

  private static Config config(String overrides) {
    return ConfigFactory.parseString(
            "slime.agent { token = t0ken, hub = \"hub.example:8080\", upstreams ="
                + " [\"127.0.0.1:9000\"] }\n"
                + overrides)
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
  }

  private static String failingKey(String overrides) {
    ConfigException e =
        assertThrows(ConfigException.class, () -> AgentSettings.create(config(overrides)));
    return e.getMessage();
  }

  @Test
  void shouldReadSeveralHubsFromAStringOrAList() {
    AgentSettings fromString =
        AgentSettings.create(config("slime.agent.hub = \"a.example:1, https://b.example\""));
    assertEquals(2, fromString.hubs().size());
    assertEquals("b.example", fromString.hubs().get(1).host());
    AgentSettings fromList =
        AgentSettings.create(config("slime.agent.hub = [\"a.example:1\", \"b.example:2\"]"));
    assertEquals(2, fromList.hubs().get(1).port());
    assertTrue(failingKey("slime.agent.hub = \"a:1,,ftp://b:2\"").contains("slime.agent.hub"));
  }

  @Test
  void shouldReadDefaults() {
    AgentSettings s = AgentSettings.create(config(""));
    assertEquals("hub.example", s.hubs().get(0).host());
    assertEquals(1, s.numWorker());
    assertEquals(64 * 1024, s.inlineBodyLimit());
    assertEquals(Optional.empty(), s.upstreamIdleTimeout());
    assertFalse(s.toString().contains("t0ken"), "the token never shows in logs");
  }

  @Test
  void shouldLeaveTermsUnsetAndTheHealthCheckOffByDefault() {
    AgentSettings s = AgentSettings.create(config(""));
    assertEquals(AgentTerms.NONE, s.terms());
    assertFalse(s.healthCheck().enabled());
    assertEquals(
        new AgentSettings.HealthCheck("", Duration.ofSeconds(10), Duration.ofSeconds(2), 3, 2),
        s.healthCheck());
    assertEquals(Duration.ofSeconds(10), s.reportInterval());
  }

  @Test
  void shouldReadTermsFromAFile() {
    AgentSettings s =
        AgentSettings.create(
            config(
                "slime.agent { weight = 7, rpm = 600, bpm = 10MiB,"
                    + " labels { model = llama3, \"gpu.kind\" = a100, replicas = 2 } }"));
    assertEquals(
        new AgentTerms(
            7, Map.of("model", "llama3", "gpu.kind", "a100", "replicas", "2"), 600L, 10485760L),
        s.terms());
  }

  @Test
  void shouldReadTermsAsFlagsAndTheEnvironmentGiveThem() {
    AgentSettings s =
        AgentSettings.create(
            config(
                "slime.agent { weight = \"0\", rpm = \"5\", bpm = \"2048\","
                    + " labels = \"zone=eu-1, model=llama3\" }"));
    assertEquals(
        new AgentTerms(0, Map.of("model", "llama3", "zone", "eu-1"), 5L, 2048L), s.terms());
  }

  @Test
  void shouldReadTheHealthCheck() {
    AgentSettings s =
        AgentSettings.create(
            config(
                "slime.agent.health-check { path = \"/health?full=1\", interval = 200ms,"
                    + " timeout = 100ms, unhealthy-after = 1, healthy-after = 5 }\n"
                    + "slime.agent.report-interval = 1s"));
    assertEquals(
        new AgentSettings.HealthCheck(
            "/health?full=1", Duration.ofMillis(200), Duration.ofMillis(100), 1, 5),
        s.healthCheck());
    assertTrue(s.healthCheck().enabled());
    assertEquals(Duration.ofSeconds(1), s.reportInterval());
  }

  @Test
  void shouldNameTheKeyOfEveryInvalidTermOrHealthCheckValue() {
    String[][] cases = {
      {"slime.agent.weight = -1", "slime.agent.weight"},
      {"slime.agent.weight = 10001", "slime.agent.weight"},
      {"slime.agent.weight = heavy", "slime.agent.weight"},
      {"slime.agent.rpm = -1", "slime.agent.rpm"},
      {"slime.agent.bpm = -1", "slime.agent.bpm"},
      {"slime.agent.bpm = lots", "slime.agent.bpm"},
      {"slime.agent.labels = \"model\"", "slime.agent.labels"},
      {"slime.agent.labels = \"mo del=x\"", "slime.agent.labels"},
      {"slime.agent.labels { gpu.kind = a100 }", "slime.agent.labels"},
      {"slime.agent.labels { model = [a, b] }", "slime.agent.labels"},
      {"slime.agent.health-check.path = health", "slime.agent.health-check.path"},
      {"slime.agent.health-check.path = \"/a b\"", "slime.agent.health-check.path"},
      {"slime.agent.health-check.interval = 0s", "slime.agent.health-check.interval"},
      {"slime.agent.health-check.timeout = -1s", "slime.agent.health-check.timeout"},
      {"slime.agent.health-check.unhealthy-after = 0", "slime.agent.health-check.unhealthy-after"},
      {"slime.agent.health-check.healthy-after = 0", "slime.agent.health-check.healthy-after"},
      {"slime.agent.report-interval = 0s", "slime.agent.report-interval"},
    };
    for (String[] c : cases) {
      String message = failingKey(c[0]);
      assertTrue(message.contains(c[1]), c[0] + " -> " + message);
    }
  }

  @Test
  void shouldAcceptCommaSeparatedUpstreams() {
    AgentSettings s =
        AgentSettings.create(config("slime.agent.upstreams = \"a:1, https://b:2/api,\""));
    assertEquals(2, s.upstreams().size());
    assertEquals("/api", s.upstreams().get(1).basePath());
    assertTrue(s.upstreams().get(1).secure());
  }

  @Test
  void shouldNameTheKeyOfEveryInvalidValue() {
    assertTrue(failingKey("slime.agent.token = \"\"").contains("slime.agent.token"));
    assertTrue(failingKey("slime.agent.hub = \"\"").contains("slime.agent.hub"));
    assertTrue(failingKey("slime.agent.hub = \"ftp://x:1\"").contains("slime.agent.hub"));
    assertTrue(failingKey("slime.agent.upstreams = []").contains("slime.agent.upstreams"));
    assertTrue(
        failingKey("slime.agent.upstreams = [\"a:1\", \"ws://b\"]")
            .contains("slime.agent.upstreams"));
    assertTrue(failingKey("slime.agent.num-worker = 0").contains("slime.agent.num-worker"));
    assertTrue(failingKey("slime.agent.num-worker = 10001").contains("slime.agent.num-worker"));
    assertTrue(failingKey("slime.agent.agent-id = \"has space\"").contains("slime.agent.agent-id"));
    assertTrue(failingKey("slime.agent.keep-alive = 0s").contains("slime.agent.keep-alive"));
    assertTrue(
        failingKey("slime.agent.inline-body-limit = 3MiB")
            .contains("slime.agent.inline-body-limit"));
    assertTrue(
        failingKey("slime.agent.reconnect.max-backoff = 1ms")
            .contains("slime.agent.reconnect.max-backoff"));
    assertTrue(
        failingKey("slime.agent.upstream.idle-timeout = forever")
            .contains("slime.agent.upstream.idle-timeout"));
  }
}
