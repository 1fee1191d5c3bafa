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

  /** Below two threads, CompletableFuture runs each async callback on a thread of its own. */
  private static final String COMMON_POOL_PARALLELISM =
      "java.util.concurrent.ForkJoinPool.common.parallelism";

  public static void main(String[] args) {
    // Futures from Pekko's javadsl complete their callbacks asynchronously in the common pool; on
    // two cores that pool has one thread, and then every callback starts a new thread. Read once,
    // so this must come before anything touches the pool.
    if (System.getProperty(COMMON_POOL_PARALLELISM) == null) {
      System.setProperty(
          COMMON_POOL_PARALLELISM,
          Integer.toString(Math.max(2, Runtime.getRuntime().availableProcessors())));
    }
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
