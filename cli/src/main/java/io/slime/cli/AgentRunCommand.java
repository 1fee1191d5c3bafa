package io.slime.cli;

import com.typesafe.config.Config;
import io.slime.agent.Agents;
import java.nio.file.Path;
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
          "Hub address, host:port or http(s)://host:port; several hub nodes comma-separated;"
              + " required. Env: HUB.")
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
    return flags;
  }
}
