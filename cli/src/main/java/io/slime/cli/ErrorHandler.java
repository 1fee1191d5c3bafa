package io.slime.cli;

import com.typesafe.config.ConfigException;
import java.io.PrintWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * Turns every error into one line on stderr and an exit code: 2 for a bad command line or
 * configuration (with a pointer to --help), 1 for anything that failed while running. Stack traces
 * go to the debug log only (SLIME_LOG_LEVEL=DEBUG).
 */
final class ErrorHandler implements IParameterExceptionHandler, IExecutionExceptionHandler {

  private static final Logger log = LoggerFactory.getLogger(ErrorHandler.class);

  @Override
  public int handleParseException(ParameterException ex, String[] args) {
    return usageError(ex.getCommandLine(), ex.getMessage());
  }

  @Override
  public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parsed) {
    log.debug("Command failed", ex);
    for (Throwable t = ex; t != null; t = t.getCause()) {
      if (t instanceof UsageException || t instanceof ParameterException) {
        return usageError(cmd, t.getMessage());
      }
      if (t instanceof ConfigException) {
        cmd.getErr().println("Invalid configuration: " + oneLine(t.getMessage()));
        return CommandLine.ExitCode.USAGE;
      }
    }
    Throwable root = ex;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage() == null ? root.getClass().getName() : root.getMessage();
    cmd.getErr().println("Error: " + oneLine(message));
    return CommandLine.ExitCode.SOFTWARE;
  }

  private static int usageError(CommandLine cmd, String message) {
    PrintWriter err = cmd.getErr();
    err.println(oneLine(message));
    err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
    return CommandLine.ExitCode.USAGE;
  }

  private static String oneLine(String message) {
    return message == null ? "" : message.strip().replaceAll("\\s*\\R\\s*", " ");
  }
}
