package io.slime.shared.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slime.shared.protocol.Frame;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.testkit.TestPublisher;
import org.apache.pekko.stream.testkit.TestSubscriber;
import org.apache.pekko.stream.testkit.javadsl.TestSink;
import org.apache.pekko.stream.testkit.javadsl.TestSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class OutboundFramesTest {

  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final ActorSystem system = testKit.system().classicSystem();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static Pair<OutboundFrames.Queue, TestSubscriber.Probe<Frame>> run(int capacity) {
    return Source.fromGraph(new OutboundFrames(capacity))
        .toMat(TestSink.create(system), Keep.both())
        .run(system);
  }

  private static Frame cancel(int n) {
    return new Frame.Cancel(n);
  }

  @Test
  void shouldPlaySingleFramesAndStreamsInTheOrderTheyWereQueued() {
    var stage = run(8);
    OutboundFrames.Queue queue = stage.first();
    TestSubscriber.Probe<Frame> out = stage.second();

    assertTrue(queue.offer(cancel(1)));
    assertTrue(queue.offer(Source.from(java.util.List.of(cancel(2), cancel(3), cancel(4)))));
    assertTrue(queue.offer(cancel(5)));

    out.request(10);
    for (int n = 1; n <= 5; n++) {
      assertEquals(n, out.expectNext().exchange());
    }
  }

  @Test
  void shouldHoldWhatFollowsAStreamUntilTheStreamEnds() {
    var stage = run(8);
    OutboundFrames.Queue queue = stage.first();
    TestSubscriber.Probe<Frame> out = stage.second();
    Pair<TestPublisher.Probe<Frame>, Source<Frame, NotUsed>> body =
        TestSource.<Frame>create(system).preMaterialize(system);

    queue.offer(body.second());
    queue.offer(cancel(9));
    out.request(10);
    body.first().sendNext(cancel(1));
    assertEquals(1, out.expectNext().exchange());
    out.expectNoMessage(Duration.ofMillis(200)); // the single frame waits its turn

    body.first().sendNext(cancel(2)).sendComplete();
    assertEquals(2, out.expectNext().exchange());
    assertEquals(9, out.expectNext().exchange());
  }

  @Test
  void shouldPullAStreamOnlyAsTheSocketAsks() throws Exception {
    var stage = run(8);
    AtomicInteger produced = new AtomicInteger();
    // Runs fused inside the stage, so what it produces is what the socket asked for.
    Source<Frame, NotUsed> endless =
        Source.fromIterator(
            () -> Stream.generate(() -> cancel(produced.incrementAndGet())).iterator());
    stage.first().offer(endless);

    TestSubscriber.Probe<Frame> out = stage.second();
    out.request(3);
    for (int n = 1; n <= 3; n++) {
      assertEquals(n, out.expectNext().exchange());
    }
    Thread.sleep(200);
    assertTrue(produced.get() <= 4, "produced " + produced.get() + " for 3 asked");
  }

  @Test
  void shouldCompleteOnlyAfterEverythingQueuedWasPlayed() {
    var stage = run(8);
    OutboundFrames.Queue queue = stage.first();
    TestSubscriber.Probe<Frame> out = stage.second();

    queue.offer(cancel(1));
    queue.offer(Source.single(cancel(2)));
    queue.complete();

    out.request(10);
    out.expectNext();
    out.expectNext();
    out.expectComplete();
  }

  @Test
  void shouldRefuseOffersOnceStopped() throws Exception {
    var stage = run(8);
    OutboundFrames.Queue queue = stage.first();
    stage.second().request(1);
    queue.complete();
    stage.second().expectComplete();

    long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
    while (queue.offer(cancel(1)) && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertFalse(queue.offer(cancel(1)), "a stopped stage takes nothing more");
  }

  @Test
  void shouldFailWhenMoreIsQueuedThanItsCapacity() {
    var stage = run(2);
    for (int n = 1; n <= 3; n++) {
      stage.first().offer(cancel(n));
    }
    assertInstanceOf(IllegalStateException.class, stage.second().expectSubscriptionAndError(false));
  }
}
