package io.slime.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;

/** Runs the slime command line in-process with the given environment and captures its output. */
record CliRun(int exitCode, String out, String err) {

  static CliRun run(Map<String, String> environment, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exitCode =
        SlimeCommand.newCommandLine(new SlimeCommand(environment))
            .setOut(new PrintWriter(out, true))
            .setErr(new PrintWriter(err, true))
            .execute(args);
    return new CliRun(exitCode, out.toString(), err.toString());
  }

  static CliRun run(String... args) {
    return run(Map.of(), args);
  }
}
