package io.slime.hub.cluster;

import io.slime.hub.CborSerializable;
import io.slime.hub.dispatch.Exchange;
import io.slime.hub.dispatch.WorkerProfile;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.SourceRef;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * A peer's request served by a worker of this node: the local side of a {@link ForwardedRequest}.
 * Feeds the request body from the peer's stream, sends the worker's answer back, and cancels the
 * request when the peer's application leaves or the peer's node goes.
 */
public final class PeerRequest {

  public sealed interface Command {}

  /** The request body, streamed from the application's node. */
  public record Body(SourceRef<ByteString> body) implements Command, CborSerializable {}

  /** The application went away. */
  public enum Cancel implements Command, CborSerializable {
    INSTANCE
  }

  private record Answered(HttpResponse response, Throwable failure) implements Command {}

  private enum Finished implements Command {
    INSTANCE
  }

  private enum OriginLost implements Command {
    INSTANCE
  }

  private PeerRequest() {}

  /**
   * The serving side of {@code exchange}, whose streamed body (if any) reads from {@code body} once
   * the origin sends it; tells {@code origin} it was accepted by a worker that accepts what {@code
   * worker} does.
   */
  public static Behavior<Command> create(
      Exchange exchange,
      CompletableFuture<Source<ByteString, NotUsed>> body,
      ActorRef<ForwardedRequest.Command> origin,
      WorkerProfile worker,
      int inlineLimit) {
    return Behaviors.setup(
        context -> {
          var self = context.getSelf();
          context.watchWith(origin, OriginLost.INSTANCE);
          origin.tell(new ForwardedRequest.Accepted(self, worker));
          context.pipeToSelf(exchange.response(), Answered::new);
          exchange.finished().whenComplete((ok, failure) -> self.tell(Finished.INSTANCE));
          // The worker may finish the exchange just before it answers: this side stops once it
          // passed the answer on.
          boolean[] passedOn = {false};
          boolean[] finished = {false};
          Materializer materializer = Materializer.matFromSystem(context.getSystem());
          return Behaviors.receive(Command.class)
              .onMessage(
                  Body.class,
                  m -> {
                    body.complete(m.body().getSource());
                    return Behaviors.same();
                  })
              .onMessage(
                  Answered.class,
                  m -> {
                    origin.tell(
                        new ForwardedRequest.Answer(
                            PeerHttp.response(m.response(), inlineLimit, materializer)));
                    passedOn[0] = true;
                    return finished[0] ? Behaviors.stopped() : Behaviors.same();
                  })
              .onMessageEquals(
                  Cancel.INSTANCE,
                  () -> {
                    leave(exchange, body);
                    return Behaviors.same();
                  })
              .onMessageEquals(
                  OriginLost.INSTANCE,
                  () -> {
                    // Once answered, the response's stream ref notices a lost origin by itself.
                    if (!exchange.isAnswered()) {
                      leave(exchange, body);
                    }
                    return Behaviors.same();
                  })
              .onMessageEquals(
                  Finished.INSTANCE,
                  () -> {
                    finished[0] = true;
                    // A worker answers every exchange but a cancelled one, maybe after finishing.
                    return passedOn[0] || exchange.isGone() ? Behaviors.stopped() : Behaviors.same();
                  })
              .build();
        });
  }

  private static void leave(Exchange exchange, CompletableFuture<Source<ByteString, NotUsed>> body) {
    body.completeExceptionally(new IllegalStateException("the application went away"));
    exchange.markGone();
  }
}
