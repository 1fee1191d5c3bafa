package io.slime.shared.stream;

import io.slime.shared.protocol.Frame;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/** What {@link InboundFrames} tells its listener about the frames arriving on a connection. */
public sealed interface InboundEvent {

  /** Whether this is the last event of exchange {@code n}: its complete answer or its failure. */
  default boolean endsExchange(int n) {
    if (this instanceof Started started) {
      return started.start().exchange() == n && started.body() == null;
    }
    if (this instanceof BodyEnded ended) {
      return ended.exchange() == n;
    }
    return this instanceof Signal signal
        && signal.frame() instanceof Frame.Failure
        && signal.frame().exchange() == n;
  }

  /** Whether this belongs to an exchange other than {@code n}, one that ended already. */
  default boolean isStaleFor(int n) {
    if (this instanceof Started started) {
      return started.start().exchange() != n;
    }
    if (this instanceof BodyEnded ended) {
      return ended.exchange() != n;
    }
    return this instanceof Signal signal && signal.frame().exchange() != n;
  }

  /**
   * An exchange began ({@link Frame.RequestStart} or {@link Frame.ResponseStart}). When the start
   * frame is not {@code last}, {@code body} streams the rest of the body, with backpressure; it
   * must be run at most once, or the exchange discarded through {@link InboundFrames.Control}.
   */
  record Started(Frame start, Source<ByteString, NotUsed> body) implements InboundEvent {}

  /** The streamed body of the exchange ended with its last chunk. */
  record BodyEnded(int exchange) implements InboundEvent {}

  /** A {@link Frame.Cancel} or {@link Frame.Failure} arrived. */
  record Signal(Frame frame) implements InboundEvent {}

  /** A frame outside any exchange that the peer sends when it likes: a {@link Frame.Report}. */
  record Notice(Frame frame) implements InboundEvent {}

  /** The connection ended; {@code failure} is null when it closed cleanly. */
  record Closed(Throwable failure) implements InboundEvent {}
}
