package io.slime.hub.peer;

import io.slime.hub.model.Job;
import io.slime.hub.model.ProxyError;
import io.slime.hub.model.WorkerProfile;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.SharedKillSwitch;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * A request this node's application sent, served by a worker on another node. Offers the request to
 * the peer's dispatcher, streams the body once the peer accepted, and answers the application with
 * what comes back. Holds the job's slot from its start; a declined offer hands the job back to this
 * node's dispatcher untouched (its body not yet read), so it is never lost between nodes.
 */
public final class ForwardedRequest {

  public sealed interface Command {}

  /**
   * The peer took the request; {@code served} is its side of the exchange, {@code worker} what the
   * serving worker accepts (see {@link Link#workerFree}).
   */
  public record Accepted(ActorRef<PeerRequest.Command> served, WorkerProfile worker)
      implements Command, ForwardingMessage {}

  /** The peer had no worker for it after all. */
  public enum Declined implements Command, ForwardingMessage {
    INSTANCE
  }

  /** The worker's answer. */
  public record Answer(RemoteResponse response) implements Command, ForwardingMessage {}

  /** The serving node stopped answering. */
  public enum PeerUnreachable implements Command {
    INSTANCE
  }

  private enum ClientGone implements Command {
    INSTANCE
  }

  private enum BodyEnded implements Command {
    INSTANCE
  }

  private record PeerLost(String why) implements Command {}

  /**
   * How a forwarded request reaches the dispatchers of its two nodes, whose protocol it leaves to
   * them: made by this node's dispatcher for one request.
   */
  public interface Link {
    /** The serving node's dispatcher; watched, it stands for its node. */
    ActorRef<?> peer();

    /** Offers the request to the serving node, whose answer comes to {@code origin}. */
    void offer(RemoteRequest request, ActorRef<Command> origin);

    /** The serving node declined: this node's dispatcher places the job again, first in line. */
    void declined(Job job);

    /**
     * The peer's worker turned idle before its answer's end left: this node counts it idle now
     * rather than at the peer's next status, so the application's next request finds it.
     */
    void workerFree(WorkerProfile worker);
  }

  private final ActorContext<Command> context;
  private final Job job;
  private final boolean streamedBody;
  private final Link link;
  private final Materializer materializer;
  private ActorRef<PeerRequest.Command> served;
  private WorkerProfile worker;

  private ForwardedRequest(
      ActorContext<Command> context,
      Job job,
      boolean streamedBody,
      Link link,
      Materializer materializer) {
    this.context = context;
    this.job = job;
    this.streamedBody = streamedBody;
    this.link = link;
    this.materializer = materializer;
  }

  /**
   * Offers {@code job} to the node {@code link} leads to; this node's dispatcher takes the job back
   * if that node declines.
   */
  public static Behavior<Command> create(Job job, Link link, int inlineLimit) {
    return Behaviors.setup(
        context -> {
          context.watchWith(link.peer(), new PeerLost("the hub node serving it left"));
          if (!job.slot().assign(() -> context.getSelf().tell(ClientGone.INSTANCE))) {
            context.getSelf().tell(ClientGone.INSTANCE);
          }
          RemoteRequest request = PeerHttp.request(job.request(), inlineLimit);
          link.offer(request, context.getSelf());
          return new ForwardedRequest(
                  context,
                  job,
                  request.streamed(),
                  link,
                  Materializer.matFromSystem(context.getSystem()))
              .offered();
        });
  }

  private Behavior<Command> offered() {
    return Behaviors.receive(Command.class)
        .onMessage(Accepted.class, this::onAccepted)
        .onMessageEquals(Declined.INSTANCE, this::onDeclined)
        .onMessageEquals(ClientGone.INSTANCE, this::onClientGone)
        .onMessage(PeerLost.class, this::onPeerLost)
        .onMessageEquals(PeerUnreachable.INSTANCE, this::onPeerUnreachable)
        .build();
  }

  private Behavior<Command> onAccepted(Accepted accepted) {
    // Not watched: it stops once its side is done, maybe before its answer arrives here. The
    // peer's dispatcher, watched since the offer, stands for its node.
    served = accepted.served();
    worker = accepted.worker();
    if (!streamedBody) {
      return serving();
    }
    // Read only now: a declined request still has its whole body for the next worker.
    served.tell(
        new PeerRequest.Body(
            PeerBody.offer(
                job.request().entity().withoutSizeLimit().getDataBytes(), materializer)));
    return serving();
  }

  private Behavior<Command> onDeclined() {
    context
        .getLog()
        .debug(
            "Peer declined {} {}; dispatching it here",
            job.request().method(),
            job.request().target());
    job.slot().handBack();
    link.declined(job);
    return Behaviors.stopped();
  }

  private Behavior<Command> serving() {
    return Behaviors.receive(Command.class)
        .onMessage(Answer.class, this::onAnswer)
        .onMessageEquals(ClientGone.INSTANCE, this::onClientGone)
        .onMessage(PeerLost.class, this::onPeerLost)
        .onMessageEquals(PeerUnreachable.INSTANCE, this::onPeerUnreachable)
        .build();
  }

  private Behavior<Command> onAnswer(Answer answer) {
    RemoteResponse response = answer.response();
    boolean head = job.request().method().equals("HEAD");
    if (response.body() == null) {
      workerFree();
      job.slot().answer(PeerHttp.httpResponse(response, head, null));
      job.slot().finish();
      return Behaviors.stopped();
    }
    var self = context.getSelf();
    SharedKillSwitch cut = KillSwitches.shared("forwarded-response");
    Source<ByteString, NotUsed> body =
        response
            .body()
            .getSource()
            .via(cut.flow())
            .watchTermination(
                (mat, done) -> {
                  done.whenComplete((ok, failure) -> self.tell(BodyEnded.INSTANCE));
                  return NotUsed.getInstance();
                });
    job.slot().answer(PeerHttp.httpResponse(response, head, body));
    return Behaviors.receive(Command.class)
        .onMessageEquals(BodyEnded.INSTANCE, this::onBodyEnded)
        .onMessageEquals(ClientGone.INSTANCE, this::onClientGone)
        // The stream ref fails by itself when the serving node is removed; cut it sooner.
        .onMessage(PeerLost.class, lost -> cutOff(cut))
        .onMessageEquals(PeerUnreachable.INSTANCE, () -> cutOff(cut))
        .build();
  }

  /** The answer's head is out: all that is left is to break the body off, which ends it here. */
  private Behavior<Command> cutOff(SharedKillSwitch cut) {
    cut.abort(new IllegalStateException("the hub node serving this response is unreachable"));
    return Behaviors.same();
  }

  private Behavior<Command> onPeerUnreachable() {
    return onPeerLost(new PeerLost("the hub node serving it is unreachable"));
  }

  private Behavior<Command> onBodyEnded() {
    workerFree();
    job.slot().finish();
    return Behaviors.stopped();
  }

  /**
   * The peer's worker turned idle before its answer's end left: count it idle here now rather than
   * at the peer's next status, so the application's next request finds it.
   */
  private void workerFree() {
    link.workerFree(worker);
  }

  private Behavior<Command> onClientGone() {
    if (served != null) {
      served.tell(PeerRequest.Cancel.INSTANCE);
    } else {
      // Not yet accepted: the peer's Accepted will find this actor gone, and its request is
      // cancelled when it sees this side stop.
      context.getLog().debug("Application left before the peer accepted");
    }
    job.slot().finish();
    return Behaviors.stopped();
  }

  private Behavior<Command> onPeerLost(PeerLost lost) {
    job.slot().answer(ProxyError.AGENT_LOST.response(lost.why()));
    job.slot().finish();
    return Behaviors.stopped();
  }
}
