package io.slime.shared.stream;

import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.SourceShape;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.util.ByteString;
import scala.jdk.javaapi.FutureConverters;

/**
 * The body of one exchange, fed by {@link InboundFrames} from another stream: it forwards each pull
 * as demand and pushes the chunk it gets back. Runs at most once.
 */
final class BodySource extends GraphStage<SourceShape<ByteString>> {

  /** What the inbound side sends this body. */
  sealed interface Signal {
    record Chunk(ByteString bytes, boolean last) implements Signal {}

    record Failed(Throwable failure) implements Signal {}
  }

  private final Outlet<ByteString> out = Outlet.create("BodySource.out");
  private final SourceShape<ByteString> shape = SourceShape.of(out);
  private final InboundFrames.Route route;
  private final AsyncCallback<InboundFrames.BodyCommand> inbound;

  BodySource(InboundFrames.Route route, AsyncCallback<InboundFrames.BodyCommand> inbound) {
    this.route = route;
    this.inbound = inbound;
  }

  @Override
  public SourceShape<ByteString> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes attributes) {
    return new GraphStageLogic(shape) {
      private final AsyncCallback<Signal> signals = createAsyncCallback(this::onSignal);

      {
        setHandler(
            out,
            new AbstractOutHandler() {
              @Override
              public void onPull() {
                inbound.invoke(new InboundFrames.Demand(route));
              }

              @Override
              public void onDownstreamFinish(Throwable cause) throws Exception {
                inbound.invoke(new InboundFrames.Cancelled(route));
                super.onDownstreamFinish(cause);
              }
            });
      }

      @Override
      public void preStart() {
        // If the connection already ended, nobody will ever answer: fail instead of hanging.
        FutureConverters.asJava(
                inbound.invokeWithFeedback(new InboundFrames.Attach(route, signals)))
            .whenComplete(
                (done, failure) -> {
                  if (failure != null) {
                    signals.invoke(new Signal.Failed(new BodyLostException("connection closed")));
                  }
                });
      }

      private void onSignal(Signal signal) {
        if (signal instanceof Signal.Chunk chunk) {
          if (!chunk.bytes().isEmpty()) {
            push(out, chunk.bytes());
          } else if (!chunk.last()) {
            inbound.invoke(new InboundFrames.Demand(route)); // nothing to push: ask again
          }
          if (chunk.last()) {
            completeStage();
          }
        } else if (signal instanceof Signal.Failed failed) {
          failStage(failed.failure());
        }
      }
    };
  }
}
