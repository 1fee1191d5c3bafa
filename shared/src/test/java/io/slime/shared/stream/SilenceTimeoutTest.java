package io.slime.shared.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.time.Duration;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.testkit.TestPublisher;
import org.apache.pekko.stream.testkit.TestSubscriber;
import org.apache.pekko.stream.testkit.javadsl.TestSink;
import org.apache.pekko.stream.testkit.javadsl.TestSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class SilenceTimeoutTest {
  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final ActorSystem system = testKit.system().classicSystem();
  private static final Duration LIMIT = Duration.ofMillis(300);

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static Pair<TestPublisher.Probe<String>, TestSubscriber.Probe<String>> run() {
    return TestSource.<String>create(system)
        .via(new SilenceTimeout<>(LIMIT))
        .toMat(TestSink.create(system), Keep.both())
        .run(system);
  }

  @Test
  void shouldFailWhenThePeerIsSilentWhileWeAsk() {
    var stream = run();
    stream.second().request(1);
    assertInstanceOf(TimeoutException.class, stream.second().expectError());
  }

  @Test
  void shouldNotCountTimeSpentNotAsking() {
    var stream = run();
    stream.second().request(1);
    stream.first().sendNext("a");
    assertEquals("a", stream.second().expectNext());
    // Our reader holds back for three times the limit: that is not the peer's silence.
    stream.second().expectNoMessage(LIMIT.multipliedBy(3));
    stream.second().request(1);
    stream.first().sendNext("b");
    assertEquals("b", stream.second().expectNext());
  }

  @Test
  void shouldKeepGoingWhileThePeerKeepsTalking() {
    var stream = run();
    stream.second().request(10);
    for (int i = 0; i < 5; i++) {
      stream.second().expectNoMessage(LIMIT.dividedBy(2));
      stream.first().sendNext("beat");
      assertEquals("beat", stream.second().expectNext());
    }
  }
}
