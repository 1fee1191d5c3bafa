package io.slime.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  @TempDir Path dir;

  @Test
  void shouldPreferFlagOverEnvironmentOverFileOverDefaults() throws Exception {
    Path file =
        Files.writeString(
            dir.resolve("hub.conf"),
            """
            slime.hub {
              secret = from-file
              host = 10.0.0.1
              port = 7000
              concurrent = 16
            }
            """);
    Map<String, String> env = Map.of("SECRET", "from-env", "PORT", "9000", "HOST", "10.0.0.2");
    Map<Setting, Object> flags = new EnumMap<>(Setting.class);
    flags.put(Setting.HUB_SECRET, "from-flag");

    Config config = new ConfigLoader(env).load(ConfigLoader.HUB_RUN, flags, file);

    assertEquals("from-flag", config.getString("slime.hub.secret")); // flag beats env and file
    assertEquals(9000, config.getInt("slime.hub.port")); // env beats file
    assertEquals("10.0.0.2", config.getString("slime.hub.host"));
    assertEquals(16, config.getInt("slime.hub.concurrent")); // file beats reference.conf
    assertEquals("", config.getString("slime.hub.app-password")); // reference.conf
    assertEquals(10000, config.getInt("slime.hub.queue.max-length"));
  }

  @Test
  void shouldLogThroughSlf4j() {
    Config config =
        new ConfigLoader(Map.of("SECRET", "s")).load(ConfigLoader.HUB_RUN, Map.of(), null);

    assertEquals(
        List.of("org.apache.pekko.event.slf4j.Slf4jLogger"), config.getStringList("pekko.loggers"));
    assertEquals(
        "org.apache.pekko.event.slf4j.Slf4jLoggingFilter",
        config.getString("pekko.logging-filter"));
  }

  @Test
  void shouldReadTheSecretFromTheFileAlone() throws Exception {
    Path file = Files.writeString(dir.resolve("hub.conf"), "slime.hub.secret = only-here\n");

    Config config = new ConfigLoader(Map.of()).load(ConfigLoader.HUB_RUN, Map.of(), file);

    assertEquals("only-here", config.getString("slime.hub.secret"));
    assertEquals(8080, config.getInt("slime.hub.port"));
  }

  @Test
  void shouldSplitUpstreamsFromTheEnvironmentAndLetFlagsReplaceThem() throws Exception {
    Map<String, String> env =
        Map.of("TOKEN", "t", "HUB", "hub:8080", "UPSTREAM", " a:1, b:2,,", "NUM_WORKER", "3");
    ConfigLoader loader = new ConfigLoader(env);

    Config fromEnv = loader.load(ConfigLoader.AGENT_RUN, Map.of(), null);
    Config fromFlag =
        loader.load(ConfigLoader.AGENT_RUN, Map.of(Setting.AGENT_UPSTREAMS, List.of("c:3")), null);

    assertEquals(List.of("a:1", "b:2"), fromEnv.getStringList("slime.agent.upstreams"));
    assertEquals(3, fromEnv.getInt("slime.agent.num-worker"));
    assertEquals(List.of("c:3"), fromFlag.getStringList("slime.agent.upstreams"));
  }

  @Test
  void shouldTakeUpstreamsAsAHoconListFromTheFile() throws Exception {
    Path file =
        Files.writeString(
            dir.resolve("agent.conf"),
            "slime.agent { token = t, hub = \"h:1\", upstreams = [\"u:1\", \"u:2\"], agent-id = x"
                + " }\n");

    Config config = new ConfigLoader(Map.of()).load(ConfigLoader.AGENT_RUN, Map.of(), file);

    assertEquals(List.of("u:1", "u:2"), config.getStringList("slime.agent.upstreams"));
    assertEquals("x", config.getString("slime.agent.agent-id"));
  }

  @Test
  void shouldLeaveUnsetTermsAbsentAndTakeTheFilesLabelsUnlessTheEnvironmentGivesSome()
      throws Exception {
    Path file =
        Files.writeString(
            dir.resolve("agent.conf"),
            "slime.agent { token = t, hub = \"h:1\", upstreams = [\"u:1\"],"
                + " labels { model = llama3 }, rpm = 60 }\n");

    Config fromFile = new ConfigLoader(Map.of()).load(ConfigLoader.AGENT_RUN, Map.of(), file);
    Config fromEnv =
        new ConfigLoader(Map.of("LABELS", "model=mistral", "RPM", "5000000000", "BPM", "1MiB"))
            .load(ConfigLoader.AGENT_RUN, Map.of(), file);

    assertFalse(fromFile.hasPath("slime.agent.weight"), "null in reference.conf: not set");
    assertEquals("llama3", fromFile.getString("slime.agent.labels.model"));
    assertEquals("model=mistral", fromEnv.getString("slime.agent.labels"));
    assertEquals(5_000_000_000L, fromEnv.getLong("slime.agent.rpm"));
    assertEquals(1024 * 1024, fromEnv.getBytes("slime.agent.bpm"));
  }

  @Test
  void shouldTreatABlankEnvironmentVariableAsUnset() throws Exception {
    Path file = Files.writeString(dir.resolve("hub.conf"), "slime.hub.secret = file\n");

    Config config =
        new ConfigLoader(Map.of("SECRET", "", "APP_PASSWORD", " "))
            .load(ConfigLoader.HUB_RUN, Map.of(), file);

    assertEquals("file", config.getString("slime.hub.secret"));
  }

  @Test
  void shouldNameFlagEnvironmentAndKeyOfAMissingSetting() {
    UsageException e =
        assertThrows(
            UsageException.class,
            () -> new ConfigLoader(Map.of()).load(ConfigLoader.AGENT_RUN, Map.of(), null));

    assertEquals(
        "Missing required option --token (or environment variable TOKEN, or slime.agent.token in"
            + " --config)",
        e.getMessage());
  }

  @Test
  void shouldRefuseZeroWorkers() {
    Map<String, String> env = Map.of("TOKEN", "t", "HUB", "h", "UPSTREAM", "u", "NUM_WORKER", "0");

    UsageException e =
        assertThrows(
            UsageException.class,
            () -> new ConfigLoader(env).load(ConfigLoader.AGENT_RUN, Map.of(), null));

    assertEquals(
        "Invalid value for --numWorker (environment variable NUM_WORKER, slime.agent.num-worker in"
            + " --config): 0 is not between 1 and 2147483647",
        e.getMessage());
  }

  @Test
  void shouldNameUnknownSlimeKeysWithTheKnownKeyTheyResemble() {
    Config config =
        ConfigFactory.parseString(
                """
                slime.hub.queue.max-wiat = 3s
                slime.hub.no-such-thing = 1
                slime.hub.routing.routes.chat { path = "/v1/", policy = fifo, protocols.sse = fifo }
                slime.agent.labels.gpu = a100
                slime.agent.weight = 2
                pekko.anything = 1
                """)
            .withFallback(ConfigFactory.defaultReference());

    assertEquals(
        List.of(
            "slime.hub.no-such-thing",
            "slime.hub.queue.max-wiat (did you mean slime.hub.queue.max-wait?)"),
        UnknownKeys.in(config, ConfigFactory.defaultReference()));
  }

  @Test
  void shouldFindNoUnknownKeysInTheShippedExamples() throws Exception {
    List<Path> examples;
    try (var files = Files.walk(Path.of("..", "config"))) {
      examples = files.filter(f -> f.toString().endsWith(".conf")).toList();
    }

    assertFalse(examples.isEmpty());
    for (Path example : examples) {
      Config config = ConfigFactory.parseFile(example.toFile()).withFallback(ConfigFactory.load());
      assertEquals(
          List.of(), UnknownKeys.in(config, ConfigFactory.defaultReference()), example.toString());
    }
  }

  @Test
  void shouldSayPlainlyThatABraceIsMissing() throws Exception {
    Path file = Files.writeString(dir.resolve("hub.conf"), "slime.hub {\n  port = 1\n");

    ConfigException e =
        assertThrows(
            ConfigException.class,
            () ->
                new ConfigLoader(Map.of("SECRET", "s")).load(ConfigLoader.HUB_RUN, Map.of(), file));

    assertTrue(e.getMessage().contains("hub.conf"), e.getMessage());
    assertTrue(
        e.getMessage().endsWith("the file ends inside a block: a '}' is missing"), e.getMessage());
  }
}
