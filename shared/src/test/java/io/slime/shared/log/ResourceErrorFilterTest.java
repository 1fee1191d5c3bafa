package io.slime.shared.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ResourceErrorFilterTest {
  @Test
  void shouldLogAFloodOfDescriptorErrorsOncePerIntervalWithACount() {
    LoggerContext context = new LoggerContext();
    ResourceErrorFilter filter = new ResourceErrorFilter(Duration.ofMillis(200));
    filter.start();
    context.addTurboFilter(filter);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.setContext(context);
    appender.start();
    context.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(appender);
    Logger tcp = context.getLogger("org.apache.pekko.io.TcpListener");
    IOException emfile = new IOException("Too many open files");

    for (int i = 0; i < 10_000; i++) {
      tcp.error("Accept error: could not accept new connection", emfile);
    }
    tcp.error("Something else went wrong", new IOException("Connection reset"));
    assertEquals(2, appender.list.size(), "one resource error and the unrelated one");

    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (System.nanoTime() < deadline && appender.list.size() < 4) {
      tcp.error("Accept error: could not accept new connection", emfile);
    }
    // The next interval: how many were kept quiet, then the error itself.
    String summary = appender.list.get(2).getFormattedMessage();
    assertTrue(summary.matches("\\d+ more errors .*"), summary);
    assertTrue(Long.parseLong(summary.split(" ")[0]) >= 9999, summary);
    assertEquals(
        "Accept error: could not accept new connection",
        appender.list.get(3).getFormattedMessage());
  }
}
