package io.slime.cli;

import com.typesafe.config.Config;
import io.slime.agent.Agents;
import io.slime.shared.agent.Labels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code slime agent run}: starts one agent per upstream and runs until they stop. */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    versionProvider = VersionInfo.class,
    description = "Run agents: each connects to the hub and forwards its requests to one upstream.",
    footer = {
      "",
      "Every option can also come from the environment or from --config FILE (HOCON, keys under",
      "slime.agent); precedence: flag, environment, file, built-in defaults."
    })
final class AgentRunCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--token",
      paramLabel = "TOKEN",
      description = "Agent token printed by `slime hub register`; required. Env: TOKEN.")
  String token;

  @Option(
      names = "--hub",
      paramLabel = "URL",
      description =
          "Hub address, host:port or http(s)://host:port[/path]; several hub nodes"
              + " comma-separated; required. Env: HUB.")
  String hub;

  @Option(
      names = "--upstream",
      paramLabel = "URL",
      split = ",",
      description =
          "Upstream address(es), comma-separated, one agent each; required. Env: UPSTREAM.")
  List<String> upstreams;

  @Option(
      names = "--numWorker",
      paramLabel = "N",
      description =
          "Workers per agent: requests an upstream sees in parallel. Env: NUM_WORKER. Default: 1.")
  Integer numWorker;

  @Option(
      names = "--agentID",
      paramLabel = "ID",
      description = "Fixed agent id; when absent one is made once and kept. Env: AGENT_ID.")
  String agentId;

  @Option(
      names = "--weight",
      paramLabel = "N",
      description =
          "Relative share of the requests in weighted balancing, 0 to 10000; the token's wins."
              + " Env: WEIGHT. Default: not set (the hub's).")
  Integer weight;

  @Option(
      names = "--label",
      paramLabel = "KEY=VALUE",
      split = ",",
      description =
          "Label that requests select agents by (Slime-Select); repeat it, or separate with"
              + " commas. Env: LABELS (k=v,k2=v2).")
  List<String> labels;

  @Option(
      names = "--rpm",
      paramLabel = "N",
      description = "Most requests per minute, 0 for no limit. Env: RPM. Default: not set.")
  Long rpm;

  @Option(
      names = "--bpm",
      paramLabel = "BYTES",
      converter = TermOptions.ByteSizeConverter.class,
      description =
          "Most body bytes per minute (10MiB, or a number), 0 for no limit. Env: BPM."
              + " Default: not set.")
  Long bpm;

  @Option(
      names = "--healthPath",
      paramLabel = "PATH",
      description =
          "Path to GET on each upstream as its health check (2xx or 3xx passes), e.g. /health."
              + " Env: HEALTH_PATH. Default: none, no check.")
  String healthPath;

  @Option(
      names = "--healthInterval",
      paramLabel = "DURATION",
      converter = GoDurationConverter.class,
      description = "Pause between health checks, e.g. 10s, 1m30s. Default: 10s.")
  Duration healthInterval;

  @Option(
      names = "--healthTimeout",
      paramLabel = "DURATION",
      converter = GoDurationConverter.class,
      description = "Longest wait for a health check's answer. Default: 2s.")
  Duration healthTimeout;

  @Option(
      names = "--healthFailures",
      paramLabel = "N",
      description = "Failed checks in a row that make a healthy upstream unhealthy. Default: 3.")
  Integer healthFailures;

  @Option(
      names = "--healthSuccesses",
      paramLabel = "N",
      description = "Passed checks in a row that make it healthy again. Default: 2.")
  Integer healthSuccesses;

  @Option(
      names = "--responseTimeout",
      paramLabel = "DURATION",
      converter = GoDurationConverter.class,
      description =
          "Longest wait for the upstream's response head once the whole request is out; then the"
              + " application gets 504 upstream-timeout. Env: RESPONSE_TIMEOUT. Default: 10m.")
  Duration responseTimeout;

  @Option(
      names = "--responseBodyIdleTimeout",
      paramLabel = "DURATION",
      converter = GoDurationConverter.class,
      description =
          "Longest silence of the upstream within a response body; then the response is cut."
              + " Env: RESPONSE_BODY_IDLE_TIMEOUT. Default: 5m.")
  Duration responseBodyIdleTimeout;

  @Option(
      names = "--caCert",
      paramLabel = "FILE",
      description =
          "PEM certificate(s) of the CA that signed an https hub's certificate; trusted instead"
              + " of the JDK's default CAs. Env: CA_CERT.")
  String caCert;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "HOCON file with slime.agent.* settings.")
  Path configFile;

  @Override
  public Integer call() {
    Config config =
        SlimeCommand.configLoader(spec).load(ConfigLoader.AGENT_RUN, flags(), configFile);
    Agents agents = Agents.start(config);
    agents.terminated().toCompletableFuture().join();
    return 0;
  }

  Map<Setting, Object> flags() {
    Map<Setting, Object> flags = new EnumMap<>(Setting.class);
    flags.put(Setting.AGENT_TOKEN, token);
    flags.put(Setting.AGENT_HUB, hub);
    if (upstreams != null) {
      List<String> cleaned =
          upstreams.stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
      flags.put(Setting.AGENT_UPSTREAMS, cleaned.isEmpty() ? null : cleaned);
    }
    flags.put(Setting.AGENT_NUM_WORKER, numWorker);
    flags.put(Setting.AGENT_ID, agentId);
    flags.put(Setting.AGENT_CA_CERT, caCert);
    flags.put(Setting.AGENT_WEIGHT, weight);
    if (labels != null) {
      // One k=v,k2=v2 string, as LABELS gives it: the flags replace the environment's labels.
      Map<String, String> parsed = TermOptions.labels(labels);
      flags.put(Setting.AGENT_LABELS, parsed.isEmpty() ? null : Labels.format(parsed));
    }
    flags.put(Setting.AGENT_RPM, rpm);
    flags.put(Setting.AGENT_BPM, bpm);
    flags.put(Setting.AGENT_HEALTH_PATH, healthPath);
    flags.put(Setting.AGENT_HEALTH_INTERVAL, positive("--healthInterval", healthInterval));
    flags.put(Setting.AGENT_HEALTH_TIMEOUT, positive("--healthTimeout", healthTimeout));
    flags.put(Setting.AGENT_HEALTH_FAILURES, healthFailures);
    flags.put(Setting.AGENT_HEALTH_SUCCESSES, healthSuccesses);
    flags.put(Setting.AGENT_RESPONSE_TIMEOUT, positive("--responseTimeout", responseTimeout));
    flags.put(
        Setting.AGENT_RESPONSE_BODY_IDLE_TIMEOUT,
        positive("--responseBodyIdleTimeout", responseBodyIdleTimeout));
    return flags;
  }

  /** The duration as HOCON reads it, or null when not given. */
  private static String positive(String flag, Duration duration) {
    if (duration == null) {
      return null;
    }
    if (duration.isNegative() || duration.isZero()) {
      throw new UsageException("Invalid value for option '" + flag + "': must be positive");
    }
    return duration.toNanos() + "ns";
  }
}
