package io.slime.shared.stream;

import java.time.Duration;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;

/**
 * Fails when the peer sends nothing for {@code limit} while we are asking for more. Unlike {@code
 * idleTimeout}, time spent not asking (our reader is slow, so we hold back) does not count: a
 * client pausing a long download must not look like a dead peer.
 */
public final class SilenceTimeout<T> extends GraphStage<FlowShape<T, T>> {
  private static final String TIMER = "silence";

  private final Duration limit;
  private final Inlet<T> in = Inlet.create("SilenceTimeout.in");
  private final Outlet<T> out = Outlet.create("SilenceTimeout.out");
  private final FlowShape<T, T> shape = FlowShape.of(in, out);

  public SilenceTimeout(Duration limit) {
    this.limit = limit;
  }

  @Override
  public FlowShape<T, T> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes attributes) {
    return new TimerGraphStageLogic(shape) {
      // Scheduling a timer per frame would put the scheduler on the hot path: one timer stays
      // armed and, when it fires early, re-arms for the rest of the current wait.
      private boolean asking;
      private long askedAt;

      {
        setHandler(
            in,
            new AbstractInHandler() {
              @Override
              public void onPush() {
                asking = false;
                push(out, grab(in));
              }
            });
        setHandler(
            out,
            new AbstractOutHandler() {
              @Override
              public void onPull() {
                pull(in);
                asking = true;
                askedAt = System.nanoTime();
                if (!isTimerActive(TIMER)) {
                  scheduleOnce(TIMER, limit);
                }
              }
            });
      }

      @Override
      public void onTimer(Object key) {
        if (!asking) {
          return; // the next pull arms it again
        }
        long waited = System.nanoTime() - askedAt;
        if (waited >= limit.toNanos()) {
          failStage(new TimeoutException("the peer sent nothing for " + limit.toMillis() + " ms"));
        } else {
          scheduleOnce(TIMER, limit.minusNanos(waited));
        }
      }
    };
  }
}
