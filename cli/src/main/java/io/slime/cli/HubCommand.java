package io.slime.cli;

import picocli.CommandLine.Command;

/** {@code slime hub}: groups the hub's subcommands; alone it is a usage error. */
@Command(
    name = "hub",
    mixinStandardHelpOptions = true,
    versionProvider = VersionInfo.class,
    description = "Run a hub, or register agent tokens for it.",
    subcommands = {HubRunCommand.class, HubRegisterCommand.class})
final class HubCommand {}
