package io.slime.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code slime demo}: placeholder until the demo (hub, agents and upstreams in one JVM) lands. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    versionProvider = VersionInfo.class,
    description = "Run a hub, agents and demo upstreams in one process (not yet available).")
final class DemoCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().getErr().println("demo: not yet available");
    return 1;
  }
}
