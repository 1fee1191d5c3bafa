package io.slime.agent;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

class AgentsTest {
  @Test
  void shouldRefuseWorkersTheDescriptorLimitCannotHold() {
    ConfigException.BadValue e =
        assertThrows(ConfigException.BadValue.class, () -> Agents.requireDescriptors(200, 256, 60));
    assertTrue(e.getMessage().contains("slime.agent.num-worker"), e.getMessage());
    assertTrue(e.getMessage().contains("ulimit -n"), e.getMessage());
  }

  @Test
  void shouldStartWorkersThatFitOrWhenTheLimitIsUnknown() {
    assertDoesNotThrow(() -> Agents.requireDescriptors(50, 256, 60));
    assertDoesNotThrow(() -> Agents.requireDescriptors(100_000, -1, -1));
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
}
