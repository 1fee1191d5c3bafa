package io.slime.hub.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClusterSettingsTest {

  private static ClusterSettings settings(String cluster) {
    Config config =
        ConfigFactory.parseString("slime.hub.cluster {" + cluster + "}")
            .withFallback(ConfigFactory.defaultReference())
            .resolve();
    return ClusterSettings.create(config.getConfig("slime.hub"));
  }

  private static String failure(String cluster) {
    return assertThrows(ConfigException.class, () -> settings(cluster)).getMessage();
  }

  @Test
  void shouldRunANodeWithoutAHostAlone() {
    assertFalse(settings("").enabled());
  }

  @Test
  void shouldTurnSeedsIntoPekkoAddressesOfTheSameSystem() {
    ClusterSettings s =
        settings("host = \"10.0.0.1\", seeds = [\"10.0.0.1:7355\", \"10.0.0.2:7355\"]");
    assertTrue(s.enabled());
    assertEquals(
        List.of("pekko://slime-hub@10.0.0.1:7355", "pekko://slime-hub@10.0.0.2:7355"),
        s.pekkoConfig().getStringList("pekko.cluster.seed-nodes"));
    assertEquals("cluster", s.pekkoConfig().getString("pekko.actor.provider"));
  }

  @Test
  void shouldNameTheKeyOfEveryBadValue() {
    assertTrue(failure("host = \"a\", seeds = [\"nohost\"]").contains("slime.hub.cluster.seeds"));
    assertTrue(failure("seeds = [\"a:1\"]").contains("slime.hub.cluster.host"));
    assertTrue(failure("host = \"0.0.0.0\"").contains("slime.hub.cluster.host"));
    assertTrue(failure("host = \"a\", bootstrap = dns").contains("slime.hub.cluster.bootstrap"));
    assertTrue(
        failure("host = \"a\", bootstrap = kubernetes, seeds = [\"a:1\"]")
            .contains("slime.hub.cluster.bootstrap"));
  }

  @Test
  void shouldFindPodsByTheirAppLabelInKubernetesBootstrap() {
    Config pekko = settings("host = \"10.1.2.3\", bootstrap = kubernetes").pekkoConfig();
    assertEquals(
        "kubernetes-api",
        pekko.getString(
            "pekko.management.cluster.bootstrap.contact-point-discovery.discovery-method"));
    assertEquals(
        "slime-hub",
        pekko.getString("pekko.management.cluster.bootstrap.contact-point-discovery.service-name"));
    assertEquals("10.1.2.3", pekko.getString("pekko.management.http.hostname"));
  }
}
