package io.slime.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slime.shared.agent.AgentTerms;
import io.slime.shared.token.AgentToken;
import io.slime.shared.token.InvalidTokenException;
import io.slime.shared.token.TokenCodec;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HubRegisterCommandTest {

  private static final String SECRET = "s3cret";
  private static final TokenCodec CODEC = TokenCodec.forSecret(SECRET);

  @Test
  void shouldPrintATokenTheHubAccepts() throws Exception {
    Instant before = Instant.now();

    CliRun run =
        CliRun.run(
            "hub",
            "register",
            "--secret",
            SECRET,
            "--name",
            "gpu-box-1",
            "--age",
            "1h30m",
            "--scopes",
            "chat,embed",
            "--scopePaths",
            "/v1/chat,/v1/embeddings");

    assertEquals(0, run.exitCode(), run.err());
    assertEquals("", run.err());
    assertEquals(1, run.out().lines().count(), run.out());
    AgentToken token = CODEC.open(run.out().strip());
    assertEquals("gpu-box-1", token.name());
    assertEquals(List.of("chat", "embed"), token.scopes());
    assertEquals(List.of("/v1/chat", "/v1/embeddings"), token.scopePaths());
    assertTrue(token.id() > 0);
    Duration age = Duration.between(before, token.expiresAt());
    assertTrue(
        age.compareTo(Duration.ofMinutes(89)) > 0 && age.compareTo(Duration.ofMinutes(91)) < 0,
        "age " + age);
  }

  @Test
  void shouldDefaultToAPetNameNoScopesAndNoExpiry() throws Exception {
    CliRun run = CliRun.run("hub", "register", "--secret", SECRET);

    assertEquals(0, run.exitCode(), run.err());
    AgentToken token = CODEC.open(run.out().strip());
    assertTrue(token.name().matches("[a-z]+-[a-z]+"), token.name());
    assertNull(token.expiresAt());
    assertEquals(List.of(), token.scopes());
    assertEquals(List.of(), token.scopePaths());
  }

  @Test
  void shouldTakeTheSecretFromTheEnvironmentUnlessGivenAsAFlag() throws Exception {
    CliRun fromEnv = CliRun.run(Map.of("SECRET", SECRET), "hub", "register", "--name", "a");
    CliRun fromFlag =
        CliRun.run(Map.of("SECRET", "other"), "hub", "register", "--secret", SECRET, "--name", "b");

    assertEquals("a", CODEC.open(fromEnv.out().strip()).name());
    assertEquals("b", CODEC.open(fromFlag.out().strip()).name());
    assertThrows(
        InvalidTokenException.class,
        () -> TokenCodec.forSecret("other").open(fromFlag.out().strip()));
  }

  @Test
  void shouldRefuseAMissingSecretWithoutMentioningConfig() {
    CliRun run = CliRun.run("hub", "register", "--name", "x");

    assertEquals(2, run.exitCode());
    assertEquals(
        "Missing required option --secret (or environment variable SECRET)\n"
            + "Try 'slime hub register --help' for more information.\n",
        run.err());
    assertEquals("", run.out());
  }

  @Test
  void shouldSealTheOperatorsTermsIntoTheToken() throws Exception {
    CliRun run =
        CliRun.run(
            "hub",
            "register",
            "--secret",
            SECRET,
            "--weight",
            "4",
            "--label",
            "model=llama3,gpu=a100",
            "--label",
            "zone=eu-1",
            "--rpm",
            "120",
            "--bpm",
            "10MiB");

    assertEquals(0, run.exitCode(), run.err());
    assertEquals(
        new AgentTerms(
            4, Map.of("model", "llama3", "gpu", "a100", "zone", "eu-1"), 120L, 10L * 1024 * 1024),
        CODEC.open(run.out().strip()).terms());
    CliRun plain = CliRun.run("hub", "register", "--secret", SECRET, "--bpm", "2048");
    assertEquals(
        new AgentTerms(null, Map.of(), null, 2048L), CODEC.open(plain.out().strip()).terms());
  }

  @Test
  void shouldSetNoTermsByDefault() throws Exception {
    CliRun run = CliRun.run("hub", "register", "--secret", SECRET);

    assertEquals(AgentTerms.NONE, CODEC.open(run.out().strip()).terms());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "--weight|-1|Invalid value for option '--weight': -1 is not between 0 and 10000",
        "--weight|10001|Invalid value for option '--weight': 10001 is not between 0 and 10000",
        "--label|gpu|Invalid value for option '--label': label 'gpu' is not key=value",
        "--rpm|-1|Invalid value for option '--rpm': must not be negative, was -1",
        "--bpm|10 parsecs|Invalid value for option '--bpm': '10 parsecs' is not a byte size",
        "--bpm|-1|Invalid value for option '--bpm': must not be negative",
      })
  void shouldRefuseBadTermsWithExitCode2(String flag, String value, String message) {
    CliRun run = CliRun.run("hub", "register", "--secret", SECRET, flag, value);

    assertEquals(2, run.exitCode(), run.err());
    assertTrue(run.err().startsWith(message), run.err());
    assertEquals("", run.out(), "no token for bad terms");
  }

  @Test
  void shouldRefuseABadAge() {
    CliRun junk = CliRun.run("hub", "register", "--secret", SECRET, "--age", "1d");
    CliRun negative = CliRun.run("hub", "register", "--secret", SECRET, "--age", "-1h");

    assertEquals(2, junk.exitCode());
    assertTrue(
        junk.err().startsWith("Invalid value for option '--age': invalid duration '1d'"),
        junk.err());
    assertEquals(2, negative.exitCode());
    assertTrue(negative.err().contains("must be positive"), negative.err());
  }
}
