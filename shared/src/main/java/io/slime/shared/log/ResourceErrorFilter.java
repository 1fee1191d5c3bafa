package io.slime.shared.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import java.time.Duration;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;

/**
 * Logs an error caused by running out of file descriptors at most once per interval, with how many
 * were kept quiet since: Pekko's TCP listener logs every failed accept, and out of descriptors
 * every accept fails at once, gigabytes of log in seconds.
 */
public final class ResourceErrorFilter extends TurboFilter {
  /** How often such an error is logged at most. */
  public static final Duration INTERVAL = Duration.ofSeconds(10);

  private static final String NAME = "slime-resource-errors";
  private static final String OWN_LOGGER = ResourceErrorFilter.class.getName();

  private final Duration interval;
  private final LogThrottle throttle;

  ResourceErrorFilter(Duration interval) {
    this.interval = interval;
    this.throttle = new LogThrottle(interval);
    setName(NAME);
  }

  /** Adds the filter to logback, once per process; does nothing under another logging backend. */
  public static void install() {
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
      synchronized (ResourceErrorFilter.class) {
        boolean present =
            context.getTurboFilterList().stream().anyMatch(f -> NAME.equals(f.getName()));
        if (!present) {
          ResourceErrorFilter filter = new ResourceErrorFilter(INTERVAL);
          filter.start();
          context.addTurboFilter(filter);
        }
      }
    }
  }

  @Override
  public FilterReply decide(
      Marker marker,
      ch.qos.logback.classic.Logger logger,
      Level level,
      String format,
      Object[] params,
      Throwable t) {
    if (level == null
        || !level.isGreaterOrEqual(Level.WARN)
        || OWN_LOGGER.equals(logger.getName())
        || !(outOfDescriptors(t) || mentionsIt(format))) {
      return FilterReply.NEUTRAL;
    }
    long quiet = throttle.admit();
    if (quiet < 0) {
      return FilterReply.DENY;
    }
    if (quiet > 0) {
      logger
          .getLoggerContext()
          .getLogger(OWN_LOGGER)
          .error(
              "{} more errors for lack of file descriptors in the last {} ms were not logged",
              quiet,
              interval.toMillis());
    }
    return FilterReply.NEUTRAL;
  }

  private static boolean outOfDescriptors(Throwable t) {
    for (Throwable cause = t; cause != null; cause = cause.getCause()) {
      if (mentionsIt(cause.getMessage())) {
        return true;
      }
      if (cause.getCause() == cause) {
        break;
      }
    }
    return false;
  }

  private static boolean mentionsIt(String text) {
    return text != null && text.contains("Too many open files");
  }
}
