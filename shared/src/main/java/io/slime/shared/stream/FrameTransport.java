package io.slime.shared.stream;

import io.slime.shared.protocol.Frame;
import io.slime.shared.protocol.FrameCodec;
import io.slime.shared.protocol.ProtocolException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.ClassicActorSystemProvider;
import org.apache.pekko.http.javadsl.model.ws.BinaryMessage;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.stream.StreamLimitReachedException;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * A worker connection's WebSocket flow, with handles for its owner: {@link #send} takes one frame,
 * or one Source of frames, per send (played one after another, each with backpressure), and inbound
 * frames go to {@link InboundFrames}, which tells the listener. Both ends are fused into the
 * socket's own stream when it runs, so a frame crosses no extra thread on its way. Closing either
 * direction closes the connection.
 */
public final class FrameTransport {
  private static final int OUTBOUND_ITEMS = 16;
  private static final int SILENT_HEARTBEATS = 3;
  private static final Message HEARTBEAT =
      BinaryMessage.create(FrameCodec.encode(new Frame.Heartbeat()));

  private final CompletableFuture<Done> opened = new CompletableFuture<>();
  private Flow<Message, Message, NotUsed> flow;
  private volatile OutboundFrames.Queue outbound;
  private volatile InboundFrames.Control inbound;
  private volatile boolean closeRequested;

  private FrameTransport() {}

  /** A transport without heartbeats, for peers that watch liveness some other way. */
  public static FrameTransport create(
      Consumer<InboundEvent> listener, ClassicActorSystemProvider system) {
    return create(listener, system, null);
  }

  /**
   * A transport that sends a {@link Frame.Heartbeat} whenever it sent nothing for {@code
   * heartbeat}, and closes the connection when the peer sent nothing for three of them while we
   * were reading: a peer that vanished without closing (a network partition, a frozen machine) is
   * noticed in seconds, not when TCP finally gives up.
   */
  public static FrameTransport create(
      Consumer<InboundEvent> listener, ClassicActorSystemProvider system, Duration heartbeat) {
    FrameTransport transport = new FrameTransport();
    Flow<Message, Message, NotUsed> watched =
        heartbeat == null
            ? Flow.of(Message.class)
            : Flow.of(Message.class)
                .via(new SilenceTimeout<>(heartbeat.multipliedBy(SILENT_HEARTBEATS)));
    Sink<Message, InboundFrames.Control> decoding =
        watched
            .flatMapConcat(FrameTransport::bytesOf)
            .map(FrameCodec::decode)
            .toMat(InboundFrames.sink(listener), Keep.right());
    Source<Message, OutboundFrames.Queue> frames =
        Source.fromGraph(new OutboundFrames(OUTBOUND_ITEMS))
            .map(frame -> (Message) BinaryMessage.create(FrameCodec.encode(frame)));
    Source<Message, OutboundFrames.Queue> encoding =
        heartbeat == null ? frames : frames.keepAlive(heartbeat, () -> HEARTBEAT);
    transport.flow =
        Flow.fromSinkAndSourceCoupledMat(
            decoding,
            encoding,
            (control, queue) -> {
              transport.attach(queue, control);
              return NotUsed.getInstance();
            });
    return transport;
  }

  private void attach(OutboundFrames.Queue queue, InboundFrames.Control control) {
    inbound = control;
    outbound = queue;
    if (closeRequested) {
      close();
    }
    opened.complete(Done.getInstance());
  }

  /** Completes when the flow starts running, that is when the WebSocket is up. */
  public CompletionStage<Done> opened() {
    return opened;
  }

  /** Queues one frame behind those already queued; false when the connection is not up. */
  public boolean send(Frame frame) {
    OutboundFrames.Queue queue = outbound;
    return queue != null && queue.offer(frame);
  }

  /**
   * Queues a stream of frames (a streamed body), played to its end before anything queued after it;
   * false when the connection is not up.
   */
  public boolean send(Source<Frame, NotUsed> frames) {
    OutboundFrames.Queue queue = outbound;
    return queue != null && queue.offer(frames);
  }

  /** Gives up on an exchange's inbound body without running it; see {@link InboundFrames}. */
  public void discard(int exchange) {
    InboundFrames.Control control = inbound;
    if (control != null) {
      control.discard(exchange);
    }
  }

  /** Closes the connection after the frames already queued; safe to call at any time, twice. */
  public void close() {
    closeRequested = true;
    OutboundFrames.Queue queue = outbound;
    if (queue != null) {
      queue.complete();
    }
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
