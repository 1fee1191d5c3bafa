package io.slime.shared.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slime.shared.protocol.Frame;
import io.slime.shared.protocol.Header;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.testkit.TestPublisher;
import org.apache.pekko.stream.testkit.TestSubscriber;
import org.apache.pekko.stream.testkit.javadsl.TestSink;
import org.apache.pekko.stream.testkit.javadsl.TestSource;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class InboundFramesTest {

  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final ActorSystem system = testKit.system().classicSystem();

  /** Chunks a materialized body reads ahead of its reader (InboundFrames.BODY_READ_AHEAD). */
  private static final int READ_AHEAD = 4;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void shouldHandAStartThatIsLastToTheListenerWithoutABody() throws Exception {
    Connection connection = new Connection();
    Frame request = start(1, true);
    Frame response =
        new Frame.ResponseStart(2, 204, List.of(), "", 0, true, ByteString.emptyByteString());

    connection.send(request, response);

    InboundEvent.Started first = connection.next(InboundEvent.Started.class);
    assertEquals(request, first.start());
    assertNull(first.body());
    InboundEvent.Started second = connection.next(InboundEvent.Started.class);
    assertEquals(response, second.start());
    assertNull(second.body());
    connection.expectNoEvent();
  }

  @Test
  void shouldStreamChunksInOrderAndCompleteTheBodyOnTheLastOne() throws Exception {
    Connection connection = new Connection();
    Frame response =
        new Frame.ResponseStart(
            1,
            200,
            List.of(),
            "text/plain",
            Frame.UNKNOWN_LENGTH,
            false,
            ByteString.emptyByteString());

    connection.send(response);
    InboundEvent.Started started = connection.next(InboundEvent.Started.class);
    assertEquals(response, started.start());
    CompletionStage<List<ByteString>> body = started.body().runWith(Sink.seq(), system);
    connection.send(
        chunk(1, "a", false), chunk(1, "", false), chunk(1, "b", false), chunk(1, "c", true));

    assertEquals(List.of("a", "b", "c"), texts(body));
    assertEquals(1, connection.next(InboundEvent.BodyEnded.class).exchange());
    connection.send(start(2, true));
    assertEquals(2, connection.next(InboundEvent.Started.class).start().exchange());
  }

  @Test
  void shouldStopReadingTheSocketWhileTheBodyIsNotRead() throws Exception {
    Connection connection = new Connection();

    // "a" is held by the stage; "b" waits in the one-element buffer in front of it.
    connection.send(start(1, false), chunk(1, "a", false), chunk(1, "b", false));
    InboundEvent.Started started = connection.next(InboundEvent.Started.class);

    connection.expectNoDemand();
    TestSubscriber.Probe<ByteString> reader =
        started.body().runWith(TestSink.probe(system), system);
    reader.request(2);
    assertEquals("a", reader.expectNext().utf8String());
    assertEquals("b", reader.expectNext().utf8String());
    assertTrue(connection.frames.expectRequest() > 0, "reading the body resumes the socket");
    connection.send(chunk(1, "c", true));
    reader.request(1);
    assertEquals("c", reader.expectNext().utf8String());
    reader.expectComplete();
  }

  @Test
  void shouldReadOnlyALittleAheadOfASlowReader() throws Exception {
    Connection connection = new Connection();
    connection.send(start(1, false));
    TestSubscriber.Probe<ByteString> reader =
        connection.next(InboundEvent.Started.class).body().runWith(TestSink.probe(system), system);

    // Read-ahead, one chunk held by the stage, one in the buffer in front of it; then no demand.
    int accepted = READ_AHEAD + 2;
    for (int i = 0; i < accepted; i++) {
      connection.send(chunk(1, "c" + i, false));
    }
    connection.expectNoDemand();

    reader.request(accepted);
    for (int i = 0; i < accepted; i++) {
      assertEquals("c" + i, reader.expectNext().utf8String());
    }
    connection.send(chunk(1, "end", true));
    reader.request(1);
    assertEquals("end", reader.expectNext().utf8String());
    reader.expectComplete();
  }

  @Test
  void shouldDropTheRestOfABodyItsReaderCancelled() throws Exception {
    Connection connection = new Connection();
    connection.send(start(1, false));
    CompletionStage<List<ByteString>> firstChunkOnly =
        connection.next(InboundEvent.Started.class).body().take(1).runWith(Sink.seq(), system);
    connection.send(chunk(1, "first", false));
    assertEquals(List.of("first"), texts(firstChunkOnly));

    // Far more than read-ahead could absorb: the probe would time out if the stage stopped pulling.
    for (int i = 0; i < 3 * READ_AHEAD; i++) {
      connection.send(chunk(1, "unwanted", false));
    }
    connection.send(chunk(1, "unwanted", true), start(2, true));

    assertEquals(2, connection.nextStart().start().exchange());
  }

  @Test
  void shouldDropADiscardedBodyAndFailItIfRunLater() throws Exception {
    Connection connection = new Connection();
    connection.send(start(1, false));
    Source<ByteString, NotUsed> body = connection.next(InboundEvent.Started.class).body();

    connection.control.discard(1);
    for (int i = 0; i < 3 * READ_AHEAD; i++) {
      connection.send(chunk(1, "unwanted", false));
    }
    connection.send(chunk(1, "unwanted", true), start(2, true));
    assertEquals(2, connection.nextStart().start().exchange());

    assertBodyLost(body.runWith(Sink.seq(), system));
  }

  @Test
  void shouldFailARunningBodyThatIsDiscarded() throws Exception {
    Connection connection = new Connection();
    connection.send(start(1, false));
    CompletionStage<List<ByteString>> body =
        connection.next(InboundEvent.Started.class).body().runWith(Sink.seq(), system);
    connection.send(chunk(1, "a", false));

    connection.control.discard(1);

    assertBodyLost(body);
    connection.send(chunk(1, "unwanted", true), start(2, true));
    assertEquals(2, connection.nextStart().start().exchange());
  }

  @Test
  void shouldFailTheBodyOnAFailureFrameAndReportIt() throws Exception {
    Connection connection = new Connection();
    connection.send(start(1, false));
    CompletionStage<List<ByteString>> body =
        connection.next(InboundEvent.Started.class).body().runWith(Sink.seq(), system);
    Frame failure = new Frame.Failure(1, "upstream reset the connection");

    connection.send(chunk(1, "a", false), failure);

    BodyLostException lost = assertBodyLost(body);
    assertEquals("upstream reset the connection", lost.getMessage());
    assertEquals(failure, connection.next(InboundEvent.Signal.class).frame());
    connection.send(chunk(1, "late", true), start(2, true));
    assertEquals(2, connection.next(InboundEvent.Started.class).start().exchange());
  }

  @Test
  void shouldFailABodyRunAfterItsExchangeWasCancelled() throws Exception {
    Connection connection = new Connection();
    connection.send(start(1, false));
    Source<ByteString, NotUsed> body = connection.next(InboundEvent.Started.class).body();

    connection.send(new Frame.Cancel(1));

    assertEquals(new Frame.Cancel(1), connection.next(InboundEvent.Signal.class).frame());
    assertBodyLost(body.runWith(Sink.seq(), system));
    connection.send(chunk(1, "late", true), start(2, true));
    assertEquals(2, connection.next(InboundEvent.Started.class).start().exchange());
  }

  @Test
  void shouldReportSignalsOfOtherExchangesWithoutTouchingTheBody() throws Exception {
    Connection connection = new Connection();
    connection.send(start(1, false));
    CompletionStage<List<ByteString>> body =
        connection.next(InboundEvent.Started.class).body().runWith(Sink.seq(), system);

    connection.send(chunk(1, "a", false), new Frame.Cancel(9), chunk(1, "b", true));

    assertEquals(new Frame.Cancel(9), connection.next(InboundEvent.Signal.class).frame());
    assertEquals(List.of("a", "b"), texts(body));
  }

  @Test
  void shouldFailABodySupersededByANewStart() throws Exception {
    Connection connection = new Connection();
    connection.send(start(1, false));
    CompletionStage<List<ByteString>> first =
        connection.next(InboundEvent.Started.class).body().runWith(Sink.seq(), system);

    connection.send(chunk(1, "a", false), start(2, false));

    assertTrue(assertBodyLost(first).getMessage().contains("superseded"));
    InboundEvent.Started second = connection.next(InboundEvent.Started.class);
    assertEquals(2, second.start().exchange());
    CompletionStage<List<ByteString>> secondBody = second.body().runWith(Sink.seq(), system);
    connection.send(chunk(2, "x", true));
    assertEquals(List.of("x"), texts(secondBody));
  }

  @Test
  void shouldIgnoreStaleChunksOfOtherExchanges() throws Exception {
    Connection connection = new Connection();
    connection.send(chunk(3, "before any start", true), start(1, false));
    CompletionStage<List<ByteString>> body =
        connection.next(InboundEvent.Started.class).body().runWith(Sink.seq(), system);

    connection.send(
        chunk(7, "other", false),
        chunk(1, "a", false),
        chunk(0, "other", true),
        chunk(1, "b", true),
        chunk(1, "after the last", true),
        start(2, true));

    assertEquals(List.of("a", "b"), texts(body));
    assertEquals(1, connection.next(InboundEvent.BodyEnded.class).exchange());
    assertEquals(2, connection.next(InboundEvent.Started.class).start().exchange());
    connection.expectNoEvent();
  }

  @Test
  void shouldReportACleanCloseAndFailTheBodyInFlight() throws Exception {
    Connection connection = new Connection();
    connection.send(start(1, false));
    CompletionStage<List<ByteString>> body =
        connection.next(InboundEvent.Started.class).body().runWith(Sink.seq(), system);
    connection.send(chunk(1, "a", false));

    connection.frames.sendComplete();

    assertNull(connection.next(InboundEvent.Closed.class).failure());
    assertBodyLost(body);
  }

  @Test
  void shouldReportAFailedConnectionAndFailTheBodyInFlight() throws Exception {
    Connection connection = new Connection();
    connection.send(start(1, false));
    CompletionStage<List<ByteString>> body =
        connection.next(InboundEvent.Started.class).body().runWith(Sink.seq(), system);
    connection.send(chunk(1, "a", false));
    RuntimeException reset = new RuntimeException("connection reset by peer");

    connection.frames.sendError(reset);

    assertSame(reset, connection.next(InboundEvent.Closed.class).failure());
    assertBodyLost(body);
  }

  @Test
  void shouldFailABodyRunAfterTheConnectionClosed() throws Exception {
    Connection connection = new Connection();
    connection.send(start(1, false), chunk(1, "a", false));
    Source<ByteString, NotUsed> body = connection.next(InboundEvent.Started.class).body();

    connection.frames.sendComplete();
    connection.next(InboundEvent.Closed.class);

    assertBodyLost(body.runWith(Sink.seq(), system));
  }

  @Test
  void shouldDeliverABodyThatArrivedWholeBeforeTheConnectionClosed() throws Exception {
    Connection connection = new Connection();
    connection.send(start(1, false));
    TestSubscriber.Probe<ByteString> reader =
        connection.next(InboundEvent.Started.class).body().runWith(TestSink.probe(system), system);
    // The read-ahead fills up, so the last chunk is still held when the peer hangs up.
    for (int i = 0; i < READ_AHEAD; i++) {
      connection.send(chunk(1, "c" + i, false));
    }
    connection.send(chunk(1, "last", true));
    assertEquals(1, connection.next(InboundEvent.BodyEnded.class).exchange());

    connection.frames.sendComplete();
    assertNull(connection.next(InboundEvent.Closed.class).failure());

    reader.request(READ_AHEAD + 1);
    for (int i = 0; i < READ_AHEAD; i++) {
      assertEquals("c" + i, reader.expectNext().utf8String());
    }
    assertEquals("last", reader.expectNext().utf8String());
    reader.expectComplete();
  }

  /** One connection's receiving end, fed frame by frame from a probe. */
  private static final class Connection {
    final BlockingQueue<InboundEvent> events = new LinkedBlockingQueue<>();
    final TestPublisher.Probe<Frame> frames;
    final InboundFrames.Control control;

    Connection() {
      // A one-element input buffer, so the demand the probe sees is the stage's own.
      Pair<TestPublisher.Probe<Frame>, InboundFrames.Control> materialized =
          TestSource.<Frame>probe(system)
              .toMat(InboundFrames.sink(events::add), Keep.both())
              .addAttributes(Attributes.inputBuffer(1, 1))
              .run(system);
      frames = materialized.first();
      control = materialized.second();
    }

    /** Fails (after the probe's timeout) when the stage does not ask for each frame. */
    void send(Frame... toSend) {
      for (Frame frame : toSend) {
        frames.sendNext(frame);
      }
    }

    void expectNoDemand() {
      assertEquals(0, frames.pending());
      frames.expectNoMessage(Duration.ofMillis(300));
    }

    <T extends InboundEvent> T next(Class<T> type) throws InterruptedException {
      InboundEvent event = events.poll(3, TimeUnit.SECONDS);
      assertNotNull(event, "no " + type.getSimpleName() + " event");
      return assertInstanceOf(type, event);
    }

    /** The next start, skipping the body ends of dropped bodies. */
    InboundEvent.Started nextStart() throws InterruptedException {
      while (true) {
        InboundEvent event = events.poll(3, TimeUnit.SECONDS);
        assertNotNull(event, "no Started event");
        if (!(event instanceof InboundEvent.BodyEnded)) {
          return assertInstanceOf(InboundEvent.Started.class, event);
        }
      }
    }

    void expectNoEvent() throws InterruptedException {
      assertNull(events.poll(200, TimeUnit.MILLISECONDS));
    }
  }

  private static Frame.RequestStart start(int exchange, boolean last) {
    ByteString body = last ? ByteString.fromString("whole body") : ByteString.emptyByteString();
    return new Frame.RequestStart(
        exchange,
        "POST",
        "/v1/items",
        List.of(new Header("Accept", "*/*")),
        "text/plain",
        last ? body.size() : Frame.UNKNOWN_LENGTH,
        last,
        body);
  }

  private static Frame.BodyChunk chunk(int exchange, String text, boolean last) {
    return new Frame.BodyChunk(exchange, ByteString.fromString(text), last);
  }

  private static List<String> texts(CompletionStage<List<ByteString>> body) throws Exception {
    return body.toCompletableFuture().get(3, TimeUnit.SECONDS).stream()
        .map(ByteString::utf8String)
        .collect(Collectors.toList());
  }

  /** The body must fail, and soon: a hanging body would time out here. */
  private static BodyLostException assertBodyLost(CompletionStage<?> body) {
    ExecutionException e =
        assertThrows(
            ExecutionException.class, () -> body.toCompletableFuture().get(3, TimeUnit.SECONDS));
    return assertInstanceOf(BodyLostException.class, e.getCause());
  }
}
