package io.slime.shared.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.japi.Pair;
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

class BodyPiecesTest {

  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final ActorSystem system = testKit.system().classicSystem();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static Pair<TestPublisher.Probe<ByteString>, TestSubscriber.Probe<Frame>> chunks() {
    return TestSource.<ByteString>probe(system)
        .via(BodyPieces.chunks(7))
        .toMat(TestSink.create(system), Keep.both())
        .run(system);
  }

  private static Frame chunk(String bytes, boolean last) {
    return new Frame.BodyChunk(7, ByteString.fromString(bytes), last);
  }

  @Test
  void shouldSendEachPieceAtOnceWhileTheSocketKeepsUp() {
    var ends = chunks();
    TestPublisher.Probe<ByteString> body = ends.first();
    TestSubscriber.Probe<Frame> socket = ends.second();

    socket.request(10);
    body.sendNext(ByteString.fromString("event 1"));
    assertEquals(chunk("event 1", false), socket.expectNext());
    body.sendNext(ByteString.fromString("event 2"));
    assertEquals(chunk("event 2", false), socket.expectNext());
    body.sendComplete();
    assertEquals(chunk("", true), socket.expectNext());
    socket.expectComplete();
  }

  @Test
  void shouldJoinWhatArrivesWhileTheSocketIsBusyAndTheEndWithIt() {
    var ends = chunks();
    TestPublisher.Probe<ByteString> body = ends.first();
    TestSubscriber.Probe<Frame> socket = ends.second();

    socket.request(1);
    body.sendNext(ByteString.fromString("a"));
    assertEquals(chunk("a", false), socket.expectNext());
    // The socket is busy with "a": what follows waits, joined, for its next pull.
    body.sendNext(ByteString.fromString("b"));
    body.sendNext(ByteString.fromString("c"));
    body.sendComplete();
    socket.request(1);
    assertEquals(chunk("bc", true), socket.expectNext());
    socket.expectComplete();
  }

  @Test
  void shouldCutLargePiecesAndNeverJoinBeyondTheLimit() throws Exception {
    ByteString large = ByteString.fromArray(new byte[2 * BodyPieces.MAX + 3]);
    List<Frame> frames =
        Source.from(List.of(large, ByteString.fromString("tail")))
            .via(BodyPieces.chunks(7))
            .runWith(Sink.seq(), system)
            .toCompletableFuture()
            .get(5, TimeUnit.SECONDS);

    ByteString joined = ByteString.emptyByteString();
    for (int i = 0; i < frames.size(); i++) {
      Frame.BodyChunk frame = (Frame.BodyChunk) frames.get(i);
      assertTrue(frame.bytes().size() <= BodyPieces.MAX, "piece of " + frame.bytes().size());
      assertEquals(i == frames.size() - 1, frame.last());
      joined = joined.concat(frame.bytes());
    }
    assertEquals(large.concat(ByteString.fromString("tail")), joined);
  }
}
