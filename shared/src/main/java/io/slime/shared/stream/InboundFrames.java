package io.slime.shared.stream;

import io.slime.shared.protocol.Frame;
import java.util.function.Consumer;
import org.apache.pekko.NotUsed;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.SinkShape;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.stage.AbstractGraphStageWithMaterializedValue;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.util.ByteString;

/**
 * Receiving end of a worker connection. Exchange starts, terminal frames and the connection's end
 * go to a listener (an actor's {@code tell}); body chunks never do: they flow into the body {@link
 * Source} handed out with each start, so bytes move from socket to socket without an actor in
 * between.
 *
 * <pre>
 *  socket ──frames──▶ InboundFrames ──events──▶ listener (actor)
 *                          │
 *                          └──chunks──▶ body Source ──▶ HTTP entity (hub) / upstream request (agent)
 * </pre>
 *
 * Demand flows backwards: a chunk that arrives before its body asked for it is held and the socket
 * is not read again until the body pulls, so a slow reader slows the peer through TCP. A body whose
 * reader cancels, or that its owner {@link Control#discard discards}, has the rest of its chunks
 * read and dropped, so one abandoned exchange never stalls the connection.
 */
public final class InboundFrames
    extends AbstractGraphStageWithMaterializedValue<SinkShape<Frame>, InboundFrames.Control> {

  /** Lets the owner give up on an exchange's body without ever running it. */
  public interface Control {
    void discard(int exchange);
  }

  /** Chunks a body reads ahead of its consumer; bounds memory per exchange. */
  private static final int BODY_READ_AHEAD = 4;

  private final Inlet<Frame> in = Inlet.create("InboundFrames.in");
  private final SinkShape<Frame> shape = SinkShape.of(in);
  private final Consumer<InboundEvent> listener;

  private InboundFrames(Consumer<InboundEvent> listener) {
    this.listener = listener;
  }

  public static Sink<Frame, Control> sink(Consumer<InboundEvent> listener) {
    return Sink.fromGraph(new InboundFrames(listener));
  }

  @Override
  public SinkShape<Frame> shape() {
    return shape;
  }

  @Override
  public Pair<GraphStageLogic, Control> createLogicAndMaterializedValuePair(Attributes attributes) {
    Logic logic = new Logic();
    return Pair.create(logic, logic.discards::invoke);
  }

  /** One streamed body, as the inbound side tracks it. Touched only inside {@link Logic}. */
  static final class Route {
    final int exchange;
    AsyncCallback<BodySource.Signal> body;
    boolean demanded;
    ByteString pending;
    boolean lastReceived;
    boolean dropping;
    Throwable failure;

    Route(int exchange) {
      this.exchange = exchange;
    }
  }

  /** What a body's {@link BodySource} asks of the inbound side. */
  sealed interface BodyCommand {
    Route route();
  }

  record Attach(Route route, AsyncCallback<BodySource.Signal> body) implements BodyCommand {}

  record Demand(Route route) implements BodyCommand {}

  record Cancelled(Route route) implements BodyCommand {}

  private final class Logic extends GraphStageLogic {
    /** The body being received; stays set while its last chunk waits for demand. */
    private Route current;

    /** The socket ended cleanly while a whole body still waited for its reader. */
    private boolean finishing;

    final AsyncCallback<Integer> discards = createAsyncCallback(this::onDiscard);
    final AsyncCallback<BodyCommand> bodyCommands = createAsyncCallback(this::onBodyCommand);

    Logic() {
      super(shape);
      setHandler(
          in,
          new AbstractInHandler() {
            @Override
            public void onPush() {
              onFrame(grab(in));
            }

            @Override
            public void onUpstreamFinish() {
              if (current != null && current.lastReceived) {
                // Every chunk arrived; stopping now would strand the last one and hang its reader.
                finishing = true;
                setKeepGoing(true); // the inlet is closed: without this the stage stops here
                listener.accept(new InboundEvent.Closed(null));
              } else {
                close(null);
                completeStage();
              }
            }

            @Override
            public void onUpstreamFailure(Throwable ex) {
              close(ex);
              failStage(ex);
            }
          });
    }

    @Override
    public void preStart() {
      pull(in);
    }

    private void onFrame(Frame frame) {
      if (frame instanceof Frame.Heartbeat) {
        pull(in); // its arrival was all it had to say
        return;
      }
      if (frame instanceof Frame.Report) {
        listener.accept(new InboundEvent.Notice(frame));
        pull(in);
        return;
      }
      if (frame instanceof Frame.BodyChunk chunk) {
        onChunk(chunk);
        return;
      }
      if (frame instanceof Frame.RequestStart || frame instanceof Frame.ResponseStart) {
        onStart(frame, isLast(frame));
      } else {
        // Cancel or Failure: a body still streaming for that exchange will not be completed.
        if (current != null && current.exchange == frame.exchange() && !current.lastReceived) {
          end(current, new BodyLostException(describe(frame)));
          current = null;
        }
        listener.accept(new InboundEvent.Signal(frame));
      }
      pull(in);
    }

    private void onStart(Frame start, boolean last) {
      if (current != null) {
        // The peer moved on (for example the upstream answered before reading the whole body).
        end(current, new BodyLostException("superseded by exchange " + start.exchange()));
        current = null;
      }
      if (last) {
        listener.accept(new InboundEvent.Started(start, null));
      } else {
        current = new Route(start.exchange());
        Source<ByteString, NotUsed> body =
            Source.fromGraph(new BodySource(current, bodyCommands))
                .buffer(BODY_READ_AHEAD, OverflowStrategy.backpressure());
        listener.accept(new InboundEvent.Started(start, body));
      }
    }

    private void onChunk(Frame.BodyChunk chunk) {
      Route route = current;
      if (route == null || route.exchange != chunk.exchange() || route.lastReceived) {
        pull(in); // a late chunk of an exchange that already ended
        return;
      }
      if (chunk.last()) {
        route.lastReceived = true;
        listener.accept(new InboundEvent.BodyEnded(route.exchange));
      }
      if (route.dropping) {
        finishIfDone(route);
        pull(in);
      } else if (route.demanded) {
        deliver(route, chunk.bytes());
        pull(in);
      } else {
        route.pending = chunk.bytes(); // hold it and stop reading until the body asks
      }
    }

    private void deliver(Route route, ByteString bytes) {
      route.demanded = false;
      route.body.invoke(new BodySource.Signal.Chunk(bytes, route.lastReceived));
      finishIfDone(route);
    }

    private void finishIfDone(Route route) {
      if (route.lastReceived && route == current) {
        current = null;
        if (finishing) {
          completeStage();
        }
      }
    }

    private void onBodyCommand(BodyCommand command) {
      Route route = command.route();
      if (command instanceof Attach attach) {
        route.body = attach.body();
        if (route.failure != null) {
          route.body.invoke(new BodySource.Signal.Failed(route.failure));
        }
      } else if (command instanceof Demand) {
        if (route.failure != null || route.dropping) {
          return;
        }
        if (route.pending != null) {
          ByteString bytes = route.pending;
          route.pending = null;
          route.demanded = true;
          deliver(route, bytes);
          pullIfIdle();
        } else {
          route.demanded = true;
        }
      } else if (command instanceof Cancelled) {
        drop(route);
      }
    }

    private void onDiscard(int exchange) {
      if (current != null && current.exchange == exchange) {
        // Recorded on the route, so a body attached later fails too instead of waiting forever.
        end(current, new BodyLostException("discarded"));
        drop(current);
      }
    }

    /** Reads and throws away the rest of a body nobody wants. */
    private void drop(Route route) {
      route.dropping = true;
      route.pending = null;
      if (route == current) {
        finishIfDone(route);
        pullIfIdle();
      }
      // Otherwise the body already ended: pulling for it could overrun the current body's hold.
    }

    private void pullIfIdle() {
      if (!hasBeenPulled(in) && !isClosed(in)) {
        pull(in);
      }
    }

    private void end(Route route, Throwable failure) {
      route.failure = failure;
      route.pending = null;
      if (route.body != null) {
        route.body.invoke(new BodySource.Signal.Failed(failure));
      }
    }

    private void close(Throwable failure) {
      if (current != null) {
        end(
            current,
            failure == null
                ? new BodyLostException("connection closed")
                : new BodyLostException("connection failed: " + failure.getMessage(), failure));
      }
      current = null;
      listener.accept(new InboundEvent.Closed(failure));
    }
  }

  private static boolean isLast(Frame start) {
    return start instanceof Frame.RequestStart r ? r.last() : ((Frame.ResponseStart) start).last();
  }

  private static String describe(Frame frame) {
    return frame instanceof Frame.Failure f ? f.reason() : "cancelled";
  }
}
