package io.slime.shared.stream;

import io.slime.shared.protocol.Frame;
import java.util.ArrayDeque;
import org.apache.pekko.NotUsed;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.SourceShape;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.stage.AbstractGraphStageWithMaterializedValue;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStageLogic;

/**
 * Sending end of a worker connection: plays what its owner queues, in order. A single frame is
 * pushed as it is; a Source of frames (a streamed body) is run inside this stage and played to its
 * end, with the socket's backpressure, before anything queued after it. Single frames are most
 * exchanges, so they cost no stream of their own.
 */
final class OutboundFrames
    extends AbstractGraphStageWithMaterializedValue<SourceShape<Frame>, OutboundFrames.Queue> {

  /** Thread-safe handle for the owner. */
  interface Queue {
    /** False when the connection is closed: the item was not queued. */
    boolean offer(Object frameOrSource);

    void complete();
  }

  private final int capacity;
  private final Outlet<Frame> out = Outlet.create("OutboundFrames.out");
  private final SourceShape<Frame> shape = SourceShape.of(out);

  OutboundFrames(int capacity) {
    this.capacity = capacity;
  }

  @Override
  public SourceShape<Frame> shape() {
    return shape;
  }

  @Override
  public Pair<GraphStageLogic, Queue> createLogicAndMaterializedValuePair(Attributes attributes) {
    Logic logic = new Logic();
    return Pair.create(logic, logic);
  }

  private sealed interface Command {}

  private record Offer(Object item) implements Command {}

  private record Complete() implements Command {}

  private final class Logic extends GraphStageLogic implements Queue {
    private final ArrayDeque<Object> queued = new ArrayDeque<>();
    private final AsyncCallback<Command> commands = createAsyncCallback(this::onCommand);
    private volatile boolean stopped;
    private SubSinkInlet<Frame> playing;
    private boolean completing;

    Logic() {
      super(shape);
      setHandler(
          out,
          new AbstractOutHandler() {
            @Override
            public void onPull() {
              if (playing != null) {
                if (!playing.hasBeenPulled() && !playing.isClosed()) {
                  playing.pull();
                }
              } else {
                next();
              }
            }
          });
    }

    @Override
    public boolean offer(Object item) {
      if (stopped) {
        return false;
      }
      commands.invoke(new Offer(item));
      return true;
    }

    @Override
    public void complete() {
      commands.invoke(new Complete());
    }

    @Override
    public void postStop() {
      stopped = true;
    }

    private void onCommand(Command command) {
      if (command instanceof Offer offer) {
        if (queued.size() >= capacity) {
          failStage(new IllegalStateException("more than " + capacity + " items queued"));
          return;
        }
        queued.add(offer.item());
        if (playing == null && isAvailable(out)) {
          next();
        }
      } else if (command instanceof Complete) {
        completing = true;
        if (playing == null && queued.isEmpty()) {
          completeStage();
        }
      }
    }

    /** Pushes the next single frame, or starts the next Source; out has been pulled. */
    @SuppressWarnings("unchecked")
    private void next() {
      Object item = queued.poll();
      if (item == null) {
        if (completing) {
          completeStage();
        }
        return;
      }
      if (item instanceof Frame frame) {
        push(out, frame);
        return;
      }
      play((Source<Frame, NotUsed>) item);
    }

    private void play(Source<Frame, NotUsed> frames) {
      SubSinkInlet<Frame> inlet = new SubSinkInlet<>("OutboundFrames.body");
      playing = inlet;
      inlet.setHandler(
          new AbstractInHandler() {
            @Override
            public void onPush() {
              push(out, inlet.grab());
            }

            @Override
            public void onUpstreamFinish() {
              playing = null;
              if (isAvailable(out)) {
                next();
              }
            }

            @Override
            public void onUpstreamFailure(Throwable ex) {
              failStage(ex);
            }
          });
      frames.runWith(inlet.sink(), subFusingMaterializer());
      inlet.pull();
    }
  }
}
