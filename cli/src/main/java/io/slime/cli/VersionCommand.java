package io.slime.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code slime version}: the slime version and the Java runtime. */
@Command(
    name = "version",
    mixinStandardHelpOptions = true,
    versionProvider = VersionInfo.class,
    description = "Print the slime version and the Java runtime.")
final class VersionCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    for (String line : new VersionInfo().getVersion()) {
      spec.commandLine().getOut().println(line);
    }
    return 0;
  }
}
