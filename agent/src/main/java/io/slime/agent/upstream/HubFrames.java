package io.slime.agent.upstream;

import io.slime.shared.protocol.Frame;
import io.slime.shared.stream.FrameTransport;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Where an exchange's answer goes: the hub connection its request came in on. Thread-safe, as
 * {@link FrameTransport} is: the socket's owner queues its own frames (reports) on it too.
 */
public interface HubFrames {

  /** Queues one frame; false when the connection is not up (its loss ends the exchange). */
  boolean send(Frame frame);

  /** Queues a stream of frames, played to its end before anything queued after it. */
  boolean send(Source<Frame, NotUsed> frames);

  /** Gives up on the rest of an exchange's request body from the hub. */
  void discard(int exchange);

  /** The frames of one session's transport. */
  static HubFrames of(FrameTransport transport) {
    return new HubFrames() {
      @Override
      public boolean send(Frame frame) {
        return transport.send(frame);
      }

      @Override
      public boolean send(Source<Frame, NotUsed> frames) {
        return transport.send(frames);
      }

      @Override
      public void discard(int exchange) {
        transport.discard(exchange);
      }
    };
  }
}
