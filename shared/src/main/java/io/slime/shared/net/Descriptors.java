package io.slime.shared.net;

import com.sun.management.UnixOperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;

/** The file descriptors (files and sockets alike) this process may open, and has open. */
public final class Descriptors {
  private Descriptors() {}

  /** The most this process may open ({@code ulimit -n}), or -1 where the JVM cannot tell. */
  public static long limit() {
    return unix() instanceof UnixOperatingSystemMXBean os ? os.getMaxFileDescriptorCount() : -1;
  }

  /** How many it has open now, or -1 where the JVM cannot tell. */
  public static long open() {
    return unix() instanceof UnixOperatingSystemMXBean os ? os.getOpenFileDescriptorCount() : -1;
  }

  private static OperatingSystemMXBean unix() {
    return ManagementFactory.getOperatingSystemMXBean();
  }
}
