package io.slime.cli;

import picocli.CommandLine.Command;

/** {@code slime agent}: groups the agent's subcommands; alone it is a usage error. */
@Command(
    name = "agent",
    mixinStandardHelpOptions = true,
    versionProvider = VersionInfo.class,
    description = "Run agents that connect to a hub and forward to upstreams.",
    subcommands = {AgentRunCommand.class})
final class AgentCommand {}
