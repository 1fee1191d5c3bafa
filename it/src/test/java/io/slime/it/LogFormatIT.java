package io.slime.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code SLIME_LOG_FORMAT=json}: a hub and an agent process log one JSON object per line. */
class LogFormatIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The command line's own logback.xml, not the test class path's logback-test.xml. */
  private static final List<String> CLI_LOGGING =
      List.of("-Dlogback.configurationFile=logback.xml");

  private static final Map<String, String> JSON_LOGS = Map.of("SLIME_LOG_FORMAT", "json");

  @TempDir Path dir;

  @Test
  void shouldWriteJsonLinesForTheHubAndTheAgent() throws Exception {
    Path hubLog = dir.resolve("hub.log");
    Path agentLog = dir.resolve("agent.log");
    Process hub =
        Slime.startProcessWithEnvironment(
            JSON_LOGS,
            CLI_LOGGING,
            hubLog,
            "hub",
            "run",
            "--secret",
            Slime.SECRET,
            "--host",
            "127.0.0.1",
            "--port",
            "0");
    Process agent = null;
    try (TestUpstream upstream = TestUpstream.start()) {
      JsonNode started = awaitLine(hubLog, "Hub started");
      assertEquals("INFO", started.get("level").asText());
      assertEquals("io.slime.hub.Hub", started.get("loggerName").asText());
      assertTrue(started.get("timestamp").asLong() > 0, started.toString());
      Matcher port =
          Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)")
              .matcher(started.get("formattedMessage").asText());
      assertTrue(port.find(), started.toString());

      agent =
          Slime.startProcessWithEnvironment(
              JSON_LOGS,
              CLI_LOGGING,
              agentLog,
              "agent",
              "run",
              "--token",
              Slime.token("json-agent"),
              "--hub",
              "127.0.0.1:" + port.group(1),
              "--upstream",
              upstream.address(),
              "--agentID",
              "json-agent");
      JsonNode connected = awaitLine(agentLog, "connected to hub");
      assertEquals("io.slime.agent.connection.HubConnection", connected.get("loggerName").asText());
    } finally {
      if (agent != null) {
        agent.destroy();
      }
      hub.destroy();
    }
  }

  /**
   * Every line so far must be a JSON object; returns the first whose message holds {@code text}.
   */
  private static JsonNode awaitLine(Path log, String text) throws IOException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      String[] parts = Files.readString(log).split("\n", -1);
      // What follows the last newline may still be being written.
      for (String line : List.of(parts).subList(0, parts.length - 1)) {
        JsonNode node = JSON.readTree(line);
        assertTrue(node.isObject(), "not a JSON object: " + line);
        if (node.path("formattedMessage").asText().contains(text)) {
          return node;
        }
      }
      Slime.sleep(100);
    }
    return fail("no log line with '" + text + "' in " + Files.readString(log));
  }
}
