package io.slime.hub.peer;

import io.slime.hub.model.Job;
import io.slime.hub.model.WorkerProfile;
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
  public record Body(SourceRef<ByteString> body) implements Command, ForwardingMessage {}

  /** The application went away. */
  public enum Cancel implements Command, ForwardingMessage {
    INSTANCE
  }

  private record Answered(HttpResponse response, Throwable failure) implements Command {}

  private enum Finished implements Command {
    INSTANCE
  }

  private enum OriginLost implements Command {
    INSTANCE
  }

  private final ActorRef<ForwardedRequest.Command> origin;
  private final Job job;
  private final CompletableFuture<Source<ByteString, NotUsed>> body;
  private final int inlineLimit;
  private final Materializer materializer;

  private PeerRequest(
      ActorRef<ForwardedRequest.Command> origin,
      Job job,
      CompletableFuture<Source<ByteString, NotUsed>> body,
      int inlineLimit,
      Materializer materializer) {
    this.origin = origin;
    this.job = job;
    this.body = body;
    this.inlineLimit = inlineLimit;
    this.materializer = materializer;
  }

  /**
   * The serving side of {@code job}, whose streamed body (if any) reads from {@code body} once the
   * origin sends it; tells {@code origin} it was accepted by a worker that accepts what {@code
   * worker} does.
   */
  public static Behavior<Command> create(
      Job job,
      CompletableFuture<Source<ByteString, NotUsed>> body,
      ActorRef<ForwardedRequest.Command> origin,
      WorkerProfile worker,
      int inlineLimit) {
    return Behaviors.setup(
        context -> {
          var self = context.getSelf();
          context.watchWith(origin, OriginLost.INSTANCE);
          origin.tell(new ForwardedRequest.Accepted(self, worker));
          context.pipeToSelf(job.slot().response(), Answered::new);
          job.slot().finished().whenComplete((ok, failure) -> self.tell(Finished.INSTANCE));
          return new PeerRequest(
                  origin, job, body, inlineLimit, Materializer.matFromSystem(context.getSystem()))
              .serving();
        });
  }

  /** Until the worker answers. */
  private Behavior<Command> serving() {
    return Behaviors.receive(Command.class)
        .onMessage(Body.class, this::onBody)
        .onMessage(Answered.class, m -> passOn(m, answered()))
        .onMessageEquals(Cancel.INSTANCE, this::leave)
        .onMessageEquals(OriginLost.INSTANCE, this::onOriginLost)
        .onMessageEquals(
            Finished.INSTANCE,
            // A worker answers every exchange but a cancelled one, maybe just after finishing it.
            () -> job.slot().isGone() ? Behaviors.stopped() : finishedUnanswered())
        .build();
  }

  /** The answer went to the origin; the response body may still be streaming. */
  private Behavior<Command> answered() {
    return Behaviors.receive(Command.class)
        .onMessage(Body.class, this::onBody)
        .onMessageEquals(Cancel.INSTANCE, this::leave)
        .onMessageEquals(OriginLost.INSTANCE, this::onOriginLost)
        .onMessageEquals(Finished.INSTANCE, Behaviors::stopped)
        .build();
  }

  /** The worker finished the exchange; its answer is still on the way here. */
  private Behavior<Command> finishedUnanswered() {
    return Behaviors.receive(Command.class)
        .onMessage(Answered.class, m -> passOn(m, Behaviors.stopped()))
        .onMessageEquals(Cancel.INSTANCE, this::leave)
        .onMessageEquals(OriginLost.INSTANCE, this::onOriginLost)
        .build();
  }

  private Behavior<Command> onBody(Body m) {
    body.complete(m.body().getSource());
    return Behaviors.same();
  }

  private Behavior<Command> passOn(Answered m, Behavior<Command> next) {
    origin.tell(
        new ForwardedRequest.Answer(PeerHttp.response(m.response(), inlineLimit, materializer)));
    return next;
  }

  private Behavior<Command> onOriginLost() {
    // Once answered, the response's stream ref notices a lost origin by itself.
    return job.slot().isAnswered() ? Behaviors.same() : leave();
  }

  private Behavior<Command> leave() {
    body.completeExceptionally(new IllegalStateException("the application went away"));
    job.slot().markGone();
    return Behaviors.same();
  }
}
