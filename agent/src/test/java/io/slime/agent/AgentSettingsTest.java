package io.slime.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

  @Test
  void shouldRefuseToStartAgentsOnInvalidSettings() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () ->
                Agents.start(
                    ConfigFactory.parseString("slime.agent { token = x, hub = \"h:1\" }")));
    assertTrue(e.getMessage().contains("slime.agent.upstreams"), e.getMessage());
  }

  @Test
  void shouldKeepTheAgentIdAcrossStartsAndSuffixItPerUpstream(@TempDir Path dir) throws Exception {
    Path idFile = dir.resolve("nested/agent-id");
    Config config =
        ConfigFactory.parseString(
            "slime.agent { token = t, hub = \"127.0.0.1:1\", upstreams ="
                + " \"127.0.0.1:2,127.0.0.1:3\", id-file = \""
                + idFile.toString().replace("\\", "/")
                + "\","
                + " reconnect.min-backoff = 5s, reconnect.max-backoff = 10s }");
    List<String> first;
    try (Agents agents = Agents.start(config)) {
      first = agents.agentIds();
    }
    assertTrue(Files.exists(idFile));
    String id = Files.readString(idFile).strip();
    assertTrue(id.matches("[0-9a-f]{16}"), id);
    assertEquals(List.of(id + "-0", id + "-1"), first);
    try (Agents agents = Agents.start(config)) {
      assertEquals(first, agents.agentIds());
    }
  }

  @Test
  void shouldPreferTheConfiguredAgentId(@TempDir Path dir) {
    AgentSettings s =
        AgentSettings.create(
            config("slime.agent { agent-id = gpu-1, id-file = \"" + dir.resolve("never") + "\" }"));
    assertEquals("gpu-1", AgentId.resolve(s));
    assertEquals("gpu-1", AgentId.forUpstream("gpu-1", 0, 1));
    assertFalse(Files.exists(dir.resolve("never")));
  }
}
