package io.slime.cli;

import java.util.Map;
import java.util.Objects;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code slime}: the root command. Holds the environment the subcommands read, so tests can hand in
 * a map instead of setting real variables.
 */
@Command(
    name = "slime",
    mixinStandardHelpOptions = true,
    versionProvider = VersionInfo.class,
    description = "Hub-agent HTTP reverse proxy.",
    subcommands = {
      HubCommand.class,
      AgentCommand.class,
      DemoCommand.class,
      VersionCommand.class,
      CommandLine.HelpCommand.class
    })
public final class SlimeCommand {

  private final Map<String, String> environment;

  public SlimeCommand() {
    this(System.getenv());
  }

  public SlimeCommand(Map<String, String> environment) {
    this.environment = Map.copyOf(Objects.requireNonNull(environment, "environment"));
  }

  public static void main(String[] args) {
    System.exit(newCommandLine(new SlimeCommand()).execute(args));
  }

  /**
   * A command line with slime's error handling: one line per error on stderr, exit code 2 for usage
   * and configuration errors, 1 for failures.
   */
  public static CommandLine newCommandLine(SlimeCommand command) {
    ErrorHandler errors = new ErrorHandler();
    return new CommandLine(command)
        .setParameterExceptionHandler(errors)
        .setExecutionExceptionHandler(errors);
  }

  /** The config loader for the environment of the root command {@code spec} belongs to. */
  static ConfigLoader configLoader(CommandSpec spec) {
    Object root = spec.root().userObject();
    return root instanceof SlimeCommand slime
        ? new ConfigLoader(slime.environment)
        : ConfigLoader.fromSystemEnvironment();
  }
}
