package io.slime.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slime.agent.settings.AgentSettings;
import io.slime.shared.agent.AgentTerms;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/** The flags of {@code slime agent run} as the agent reads them; nothing is started here. */
class AgentRunCommandTest {
  private static final List<String> REQUIRED =
      List.of("--token", "t", "--hub", "hub:8080", "--upstream", "127.0.0.1:9000");

  /** The agent's settings from these flags and this environment, as {@code call()} builds them. */
  private static AgentSettings settings(Map<String, String> env, String... flags) {
    AgentRunCommand command = new AgentRunCommand();
    List<String> args = new ArrayList<>(REQUIRED);
    args.addAll(List.of(flags));
    new CommandLine(command).parseArgs(args.toArray(String[]::new));
    return AgentSettings.create(
        new ConfigLoader(env).load(ConfigLoader.AGENT_RUN, command.flags(), null));
  }

  @Test
  void shouldLeaveTermsUnsetAndTheHealthCheckOffWithoutFlags() {
    AgentSettings s = settings(Map.of());

    assertEquals(AgentTerms.NONE, s.terms());
    assertEquals(
        new AgentSettings.HealthCheck("", Duration.ofSeconds(10), Duration.ofSeconds(2), 3, 2),
        s.healthCheck());
  }

  @Test
  void shouldReadTermsAndTheHealthCheckFromFlags() {
    AgentSettings s =
        settings(
            Map.of(),
            "--weight",
            "5",
            "--label",
            "model=llama3,gpu=a100",
            "--label",
            "zone=eu-1",
            "--rpm",
            "600",
            "--bpm",
            "10MiB",
            "--healthPath",
            "/health",
            "--healthInterval",
            "1m30s",
            "--healthTimeout",
            "1.5s",
            "--healthFailures",
            "4",
            "--healthSuccesses",
            "1");

    assertEquals(
        new AgentTerms(
            5, Map.of("model", "llama3", "gpu", "a100", "zone", "eu-1"), 600L, 10L * 1024 * 1024),
        s.terms());
    assertEquals(
        new AgentSettings.HealthCheck(
            "/health", Duration.ofSeconds(90), Duration.ofMillis(1500), 4, 1),
        s.healthCheck());
  }

  @Test
  void shouldReadTermsFromTheEnvironmentAndLetFlagsWin() {
    Map<String, String> env =
        Map.of(
            "WEIGHT", "2",
            "LABELS", "model=llama3, gpu=a100",
            "RPM", "60",
            "BPM", "1MiB",
            "HEALTH_PATH", "/ready");

    AgentSettings fromEnv = settings(env);
    AgentSettings fromFlags = settings(env, "--weight", "9", "--label", "model=mistral");

    assertEquals(
        new AgentTerms(2, Map.of("model", "llama3", "gpu", "a100"), 60L, 1024L * 1024),
        fromEnv.terms());
    assertEquals("/ready", fromEnv.healthCheck().path());
    assertEquals(9, fromFlags.terms().weight());
    // The flags' labels replace the environment's, as every flag replaces its variable.
    assertEquals(Map.of("model", "mistral"), fromFlags.terms().labels());
    assertEquals(60L, fromFlags.terms().rpm());
  }

  @Test
  void shouldReadTheUpstreamTimeoutsFromFlagsTheEnvironmentAndDefaults() {
    Map<String, String> env =
        Map.of("RESPONSE_TIMEOUT", "1m30s", "RESPONSE_BODY_IDLE_TIMEOUT", "45s");

    AgentSettings defaults = settings(Map.of());
    AgentSettings fromEnv = settings(env);
    AgentSettings fromFlags =
        settings(env, "--responseTimeout", "20m", "--responseBodyIdleTimeout", "2.5s");

    assertEquals(Duration.ofMinutes(10), defaults.responseTimeout());
    assertEquals(Duration.ofMinutes(5), defaults.responseBodyIdleTimeout());
    assertEquals(Duration.ofSeconds(90), fromEnv.responseTimeout());
    assertEquals(Duration.ofSeconds(45), fromEnv.responseBodyIdleTimeout());
    assertEquals(Duration.ofMinutes(20), fromFlags.responseTimeout());
    assertEquals(Duration.ofMillis(2500), fromFlags.responseBodyIdleTimeout());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "--weight|-1|Invalid value for --weight (environment variable WEIGHT, slime.agent.weight"
            + " in --config): -1 is not between 0 and 10000",
        "--weight|10001|10001 is not between 0 and 10000",
        "--weight|heavy|Invalid value for option '--weight': 'heavy' is not an int",
        "--label|gpu|Invalid value for option '--label': label 'gpu' is not key=value",
        "--label|mo del=x|Invalid value for option '--label': label key 'mo del'",
        "--rpm|-5|Invalid value for --rpm (environment variable RPM, slime.agent.rpm in --config):"
            + " -5 is not between 0",
        "--bpm|lots|Invalid value for option '--bpm': 'lots' is not a byte size",
        "--bpm|-1|Invalid value for option '--bpm': must not be negative",
        "--healthPath|health|Invalid configuration: ",
        "--healthInterval|0s|Invalid value for option '--healthInterval': must be positive",
        "--healthTimeout|2d|Invalid value for option '--healthTimeout': invalid duration '2d'",
        "--healthFailures|0|Invalid value for --healthFailures (slime.agent.health-check"
            + ".unhealthy-after in --config): 0 is not between 1 and 2147483647",
        "--healthSuccesses|0|0 is not between 1",
      })
  void shouldRefuseABadValueInOneLineWithExitCode2(String flag, String value, String message) {
    List<String> args = new ArrayList<>(List.of("agent", "run"));
    args.addAll(REQUIRED);
    args.addAll(List.of(flag, value));

    CliRun run = CliRun.run(args.toArray(String[]::new));

    assertEquals(2, run.exitCode(), run.err());
    String firstLine = run.err().lines().findFirst().orElse("");
    assertTrue(firstLine.contains(message), firstLine);
    assertEquals("", run.out());
  }

  @Test
  void shouldRefuseABadValueFromTheEnvironment() {
    CliRun weight = CliRun.run(Map.of("WEIGHT", "20000"), args());
    CliRun rpm = CliRun.run(Map.of("RPM", "many"), args());
    CliRun labels = CliRun.run(Map.of("LABELS", "gpu"), args());

    assertEquals(2, weight.exitCode());
    assertTrue(weight.err().contains("20000 is not between 0 and 10000"), weight.err());
    assertEquals(2, rpm.exitCode());
    assertTrue(
        rpm.err().startsWith("Invalid value for environment variable RPM: 'many'"), rpm.err());
    assertEquals(2, labels.exitCode());
    assertTrue(labels.err().contains("slime.agent.labels"), labels.err());
  }

  @Test
  void shouldListTheNewFlagsInHelp() {
    String help = CliRun.run("agent", "run", "--help").out();
    for (String flag :
        List.of(
            "--weight",
            "--label",
            "--rpm",
            "--bpm",
            "--healthPath",
            "--healthInterval",
            "--healthTimeout",
            "--healthFailures",
            "--healthSuccesses",
            "--responseTimeout",
            "--responseBodyIdleTimeout")) {
      assertTrue(help.contains(flag), flag + " in " + help);
    }
  }

  private static String[] args() {
    List<String> args = new ArrayList<>(List.of("agent", "run"));
    args.addAll(REQUIRED);
    return args.toArray(String[]::new);
  }
}
