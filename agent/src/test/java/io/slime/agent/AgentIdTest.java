package io.slime.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.slime.agent.settings.AgentSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentIdTest {

  private static Config config(String overrides) {
    return ConfigFactory.parseString(
            "slime.agent { token = t0ken, hub = \"hub.example:8080\", upstreams ="
                + " [\"127.0.0.1:9000\"] }\n"
                + overrides)
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
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
    assertEquals(2, first.size());
    assertTrue(first.get(0).matches(id + "-[0-9a-f]{8}"), first.get(0));
    assertTrue(first.get(1).matches(id + "-[0-9a-f]{8}"), first.get(1));
    assertNotEquals(first.get(0), first.get(1));
    try (Agents agents = Agents.start(config)) {
      assertEquals(first, agents.agentIds());
    }
  }

  @Test
  void shouldGiveAgentsOfOneHostTheirOwnIdsFromOneIdFile(@TempDir Path dir) {
    String idFile = dir.resolve("agent-id").toString().replace("\\", "/");
    AgentSettings gpu0 =
        AgentSettings.create(
            config("slime.agent { upstreams = \"127.0.0.1:9000\", id-file = \"" + idFile + "\" }"));
    AgentSettings gpu1 =
        AgentSettings.create(
            config("slime.agent { upstreams = \"127.0.0.1:9001\", id-file = \"" + idFile + "\" }"));
    List<String> first = AgentId.resolve(gpu0);
    List<String> second = AgentId.resolve(gpu1);
    assertNotEquals(first, second);
    assertEquals(first, AgentId.resolve(gpu0), "the same upstream keeps its id across restarts");
  }

  @Test
  void shouldPreferTheConfiguredAgentId(@TempDir Path dir) {
    AgentSettings s =
        AgentSettings.create(
            config("slime.agent { agent-id = gpu-1, id-file = \"" + dir.resolve("never") + "\" }"));
    assertEquals(List.of("gpu-1"), AgentId.resolve(s));
    assertFalse(Files.exists(dir.resolve("never")));
  }
}
