package io.slime.shared.stream;

import io.slime.shared.protocol.Frame;
import io.slime.shared.protocol.FrameCodec;
import io.slime.shared.protocol.ProtocolException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.ClassicActorSystemProvider;
import org.apache.pekko.http.javadsl.model.ws.BinaryMessage;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.StreamLimitReachedException;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * A worker connection's WebSocket flow, built before the socket exists so its owner holds both
 * ends from the start: {@link #outbound()} takes one Source of frames per exchange (played one
 * after another, each with its own backpressure), and inbound frames go to {@link InboundFrames}.
 * Closing either direction closes the connection.
 */
public final class FrameTransport {
  private static final int OUTBOUND_SOURCES = 16;

  private final BoundedSourceQueue<Source<Frame, NotUsed>> outbound;
  private final InboundFrames.Control inbound;
  private final Flow<Message, Message, NotUsed> flow;
  private final CompletableFuture<Done> opened = new CompletableFuture<>();

  private FrameTransport(
      BoundedSourceQueue<Source<Frame, NotUsed>> outbound,
      InboundFrames.Control inbound,
      Flow<Message, Message, NotUsed> flow) {
    this.outbound = outbound;
    this.inbound = inbound;
    this.flow =
        flow.mapMaterializedValue(
            notUsed -> {
              opened.complete(Done.getInstance());
              return notUsed;
            });
  }

  public static FrameTransport create(
      Consumer<InboundEvent> listener, ClassicActorSystemProvider system) {
    Pair<BoundedSourceQueue<Source<Frame, NotUsed>>, Source<Source<Frame, NotUsed>, NotUsed>> out =
        Source.<Source<Frame, NotUsed>>queue(OUTBOUND_SOURCES).preMaterialize(system);
    Pair<InboundFrames.Control, Sink<Frame, NotUsed>> in =
        InboundFrames.sink(listener).preMaterialize(system);

    Sink<Message, NotUsed> decoding =
        Flow.of(Message.class)
            .flatMapConcat(FrameTransport::bytesOf)
            .map(FrameCodec::decode)
            .to(in.second());
    Source<Message, NotUsed> encoding =
        out.second()
            .flatMapConcat(frames -> frames)
            .map(frame -> (Message) BinaryMessage.create(FrameCodec.encode(frame)));
    return new FrameTransport(
        out.first(), in.first(), Flow.fromSinkAndSourceCoupled(decoding, encoding));
  }

  /** Queue of per-exchange frame Sources; offer returns Enqueued unless the connection closed. */
  public BoundedSourceQueue<Source<Frame, NotUsed>> outbound() {
    return outbound;
  }

  /** Closes the connection after the frames already offered; safe to call more than once. */
  public void close() {
    try {
      outbound.complete();
    } catch (IllegalStateException alreadyClosed) {
      // The connection ended first; nothing left to close.
    }
  }

  public InboundFrames.Control inbound() {
    return inbound;
  }

  /** Completes when the flow starts running, that is when the WebSocket is up. */
  public CompletionStage<Done> opened() {
    return opened;
  }

  /** The flow to hand to the WebSocket server upgrade or client request; run it once. */
  public Flow<Message, Message, NotUsed> flow() {
    return flow;
  }

  /** Whole message bytes; a streamed message is drained and joined, up to the frame size limit. */
  private static Source<ByteString, ?> bytesOf(Message message) {
    if (!message.isText()) {
      BinaryMessage binary = message.asBinaryMessage();
      if (binary.isStrict()) {
        return Source.single(binary.getStrictData());
      }
      return binary
          .getStreamedData()
          .limitWeighted(FrameCodec.MAX_FRAME_BYTES, bytes -> (long) bytes.size())
          .mapError(
              StreamLimitReachedException.class,
              e -> new ProtocolException("frame exceeds " + FrameCodec.MAX_FRAME_BYTES + " bytes"))
          .fold(ByteString.emptyByteString(), ByteString::concat);
    }
    return Source.failed(new ProtocolException("text messages are not part of the protocol"));
  }
}
