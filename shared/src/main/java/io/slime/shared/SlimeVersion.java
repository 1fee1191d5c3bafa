package io.slime.shared;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** The version slime was built as, from the Maven build. */
public final class SlimeVersion {
  private static final String VERSION = read();

  private SlimeVersion() {}

  /** The project version the jar was built from, e.g. "0.1.0-SNAPSHOT". */
  public static String get() {
    return VERSION;
  }

  private static String read() {
    try (InputStream in = SlimeVersion.class.getResourceAsStream("version.properties")) {
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
}
