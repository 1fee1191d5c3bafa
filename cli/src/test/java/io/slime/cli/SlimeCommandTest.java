package io.slime.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SlimeCommandTest {

  @ParameterizedTest
  @ValueSource(
      strings = {"", "hub", "hub run", "hub register", "agent", "agent run", "version", "demo"})
  void shouldShowHelpOnEveryCommand(String command) {
    String[] args = (command + " --help").strip().split(" ");

    CliRun run = CliRun.run(args);

    assertEquals(0, run.exitCode(), run.err());
    assertTrue(run.out().startsWith("Usage: slime"), run.out());
    assertEquals("", run.err());
  }

  @Test
  void shouldListTheGoSlimeFlagsInHelp() {
    String hubRun = CliRun.run("hub", "run", "--help").out();
    for (String flag :
        new String[] {
          "--secret", "--host", "--port", "--appPassword", "--concurrent", "--config"
        }) {
      assertTrue(hubRun.contains(flag), flag + " in " + hubRun);
    }
    String agentRun = CliRun.run("agent", "run", "--help").out();
    for (String flag :
        new String[] {"--token", "--hub", "--upstream", "--numWorker", "--agentID", "--config"}) {
      assertTrue(agentRun.contains(flag), flag + " in " + agentRun);
    }
    String register = CliRun.run("hub", "register", "--help").out();
    for (String flag : new String[] {"--secret", "--name", "--age", "--scopes", "--scopePaths"}) {
      assertTrue(register.contains(flag), flag + " in " + register);
    }
  }

  @Test
  void shouldRefuseAnUnknownFlagInOneLine() {
    CliRun run = CliRun.run("hub", "run", "--secret", "s", "--bogus");

    assertEquals(2, run.exitCode());
    assertEquals(
        "Unknown option: '--bogus'\nTry 'slime hub run --help' for more information.\n", run.err());
    assertEquals("", run.out());
  }

  @Test
  void shouldRefuseAMissingSubcommand() {
    CliRun run = CliRun.run("hub");

    assertEquals(2, run.exitCode());
    assertTrue(run.err().contains("Try 'slime hub --help'"), run.err());
  }

  @Test
  void shouldNameFlagEnvironmentAndKeyWhenTheSecretIsMissing() {
    CliRun run = CliRun.run("hub", "run", "--port", "9000");

    assertEquals(2, run.exitCode());
    assertEquals(
        "Missing required option --secret (or environment variable SECRET, or slime.hub.secret in"
            + " --config)\nTry 'slime hub run --help' for more information.\n",
        run.err());
  }

  @Test
  void shouldNameWhatIsMissingForAnAgent() {
    CliRun run = CliRun.run(Map.of("TOKEN", "t"), "agent", "run", "--hub", "localhost:8080");

    assertEquals(2, run.exitCode());
    assertTrue(
        run.err()
            .startsWith("Missing required option --upstream (or environment variable UPSTREAM"),
        run.err());
  }

  @Test
  void shouldRefuseANonNumericPortFlag() {
    CliRun run = CliRun.run("hub", "run", "--secret", "s", "--port", "eighty");

    assertEquals(2, run.exitCode());
    assertTrue(run.err().startsWith("Invalid value for option '--port'"), run.err());
  }

  @Test
  void shouldRefuseANonNumericPortInTheEnvironment() {
    CliRun run = CliRun.run(Map.of("SECRET", "s", "PORT", "eighty"), "hub", "run");

    assertEquals(2, run.exitCode());
    assertTrue(
        run.err()
            .startsWith("Invalid value for environment variable PORT: 'eighty' is not an integer"),
        run.err());
  }

  @Test
  void shouldRefuseAPortOutOfRange() {
    CliRun run = CliRun.run("hub", "run", "--secret", "s", "--port", "70000");

    assertEquals(2, run.exitCode());
    assertTrue(run.err().contains("70000 is not between 0 and 65535"), run.err());
  }

  @Test
  void shouldRefuseAMissingConfigFile(@TempDir Path dir) {
    Path missing = dir.resolve("nope.conf");

    CliRun run = CliRun.run("hub", "run", "--secret", "s", "--config", missing.toString());

    assertEquals(2, run.exitCode());
    assertTrue(
        run.err().startsWith("Config file not found or not readable: " + missing), run.err());
  }

  @Test
  void shouldRefuseAnUnparsableConfigFileInOneLine(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("hub.conf"), "slime.hub {\n port = \n");

    CliRun run = CliRun.run("hub", "run", "--secret", "s", "--config", file.toString());

    assertEquals(2, run.exitCode());
    assertTrue(run.err().startsWith("Invalid configuration: "), run.err());
    assertEquals(1, run.err().lines().count(), run.err());
  }

  @Test
  void shouldNameTheKeyOfAWronglyTypedConfigValue(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("hub.conf"), "slime.hub.port = eighty\n");

    CliRun run = CliRun.run("hub", "run", "--secret", "s", "--config", file.toString());

    assertEquals(2, run.exitCode());
    assertTrue(run.err().contains("slime.hub.port"), run.err());
  }

  @Test
  void shouldNameTheFullKeyOfABadDurationOrSwitch(@TempDir Path dir) throws Exception {
    for (String line :
        List.of(
            "slime.hub.queue.max-wait = soon",
            "slime.hub.health.passive.cooldown = 1 fortnight",
            "slime.hub.status-requires-token = perhaps")) {
      Path file = Files.writeString(dir.resolve("hub.conf"), line + "\n");

      CliRun run = CliRun.run("hub", "run", "--secret", "s", "--config", file.toString());

      String key = line.substring(0, line.indexOf(' '));
      assertEquals(2, run.exitCode(), run.err());
      assertTrue(run.err().contains("'" + key + "'"), run.err());
    }
  }

  @Test
  void shouldPrintTheVersion() {
    CliRun run = CliRun.run("version");

    assertEquals(0, run.exitCode());
    String[] lines = run.out().split("\n");
    assertTrue(lines[0].matches("slime \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?"), lines[0]);
    assertTrue(lines[1].startsWith("Java " + Runtime.version().feature()), lines[1]);
    assertEquals(run.out(), CliRun.run("--version").out());
  }
}
