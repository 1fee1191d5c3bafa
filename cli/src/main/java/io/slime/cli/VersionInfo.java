package io.slime.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/** Slime's version (from the Maven build) and the Java runtime it runs on. */
public final class VersionInfo implements IVersionProvider {

  private static final String RESOURCE = "version.properties";

  /** The project version the jar was built from, e.g. "0.1.0-SNAPSHOT". */
  public static String slimeVersion() {
    try (InputStream in = VersionInfo.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        return "unknown";
      }
      Properties props = new Properties();
      props.load(in);
      return props.getProperty("version", "unknown");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
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
