package io.slime.cli;

import io.slime.shared.SlimeVersion;
import picocli.CommandLine.IVersionProvider;

/** Slime's version (from the Maven build) and the Java runtime it runs on. */
public final class VersionInfo implements IVersionProvider {

  /** The project version the jar was built from, e.g. "0.1.0-SNAPSHOT". */
  public static String slimeVersion() {
    return SlimeVersion.get();
  }

  @Override
  public String[] getVersion() {
    return new String[] {
      "slime " + slimeVersion(),
      "Java "
          + Runtime.version()
          + " ("
          + System.getProperty("java.vendor")
          + ", "
          + System.getProperty("java.vm.name")
          + ")"
    };
  }
}
