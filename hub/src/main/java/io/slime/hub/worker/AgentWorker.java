package io.slime.hub.worker;

import io.slime.hub.model.Job;
import io.slime.hub.model.Outcome;
import io.slime.hub.model.ProxyError;
import io.slime.hub.model.ResponseSlot;
import io.slime.hub.model.WorkerProfile;
import io.slime.hub.stats.AgentTraffic;
import io.slime.shared.agent.AgentReport;
import io.slime.shared.protocol.Frame;
import io.slime.shared.stream.BodyLostException;
import io.slime.shared.stream.FrameTransport;
import io.slime.shared.stream.InboundEvent;
import java.time.Duration;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.SharedKillSwitch;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * One agent worker's WebSocket, seen from the hub: carries one request at a time to the agent and
 * its response back to the application.
 *
 * <p>States: {@link #opening()} until the socket runs, {@link #idle()} (the dispatcher holds it),
 * {@link #busy} with one job (it holds the job's {@link ResponseSlot}), {@link #cancelling} after
 * the application went away until the agent confirms, and {@link #closing()} until the dispatcher
 * has forgotten it. Reports to the dispatcher ({@link Report}); its frames come from the socket's
 * {@link FrameTransport}; body bytes never pass through it.
 */
public final class AgentWorker {

  public sealed interface Command {}

  /** Carry this request: the worker takes its slot over as it receives it. */
  public record Assign(Job job) implements Command {}

  /** The same agent worker connected again: this connection is stale. */
  public enum Replace implements Command {
    INSTANCE
  }

  /**
   * Close the connection (its token was revoked, or an operator asked), dropping any request in
   * flight.
   */
  public enum Disconnect implements Command {
    INSTANCE
  }

  /** The dispatcher has forgotten this worker; it may stop. */
  public enum Released implements Command {
    INSTANCE
  }

  /** What a worker tells the dispatcher. */
  public sealed interface Report {}

  /** The worker's connection opened and it is idle. */
  public record Joined(ActorRef<Command> worker, WorkerProfile profile) implements Report {}

  /** The worker finished its request and is idle again; {@code outcome} judges its agent. */
  public record Idle(ActorRef<Command> worker, Outcome outcome) implements Report {
    public Idle(ActorRef<Command> worker) {
      this(worker, Outcome.NEUTRAL);
    }
  }

  /** The worker's connection closed; it waits for {@link Released}. */
  public record Left(ActorRef<Command> worker) implements Report {}

  /** The worker passed on its agent's report (its upstream's health, its machine's load). */
  public record Reported(ActorRef<Command> worker, AgentReport report) implements Report {}

  /**
   * The worker failed {@code job} before any of the answer reached the application, and hands it
   * back: to try once more elsewhere if it may be, else to answer {@code error}. Sent while the
   * worker still counts busy, so it is never the one chosen.
   */
  public record Failed(Job job, String failedAgent, HttpResponse error) implements Report {}

  /** The worker could not take {@code job} (its connection closed): serve it first elsewhere. */
  public record Bounced(Job job) implements Report {}

  private record WrappedInbound(InboundEvent event) implements Command {}

  private record ClientGone(int exchange) implements Command {}

  /**
   * The response body stopped; {@code byTheAgent} when it broke off from the agent's side (its
   * Failure, or its connection closing), whose own event says so too.
   */
  private record ResponseBodyEnded(int exchange, boolean byTheAgent) implements Command {}

  private record CancelTimedOut(int exchange) implements Command {}

  private enum OpenTimedOut implements Command {
    INSTANCE
  }

  private enum Opened implements Command {
    INSTANCE
  }

  private static final Duration OPEN_TIMEOUT = Duration.ofSeconds(10);

  /**
   * The job a busy worker carries; {@code requestBody} stops a streamed body, else null; {@code
   * status} is the upstream's, once it answered.
   */
  private static final class Ongoing {
    final int n;
    final Job job;
    final SharedKillSwitch requestBody;
    final long startedNanos = System.nanoTime();
    int status;

    Ongoing(int n, Job job, SharedKillSwitch requestBody) {
      this.n = n;
      this.job = job;
      this.requestBody = requestBody;
    }

    int n() {
      return n;
    }

    ResponseSlot slot() {
      return job.slot();
    }

    void stopRequestBody() {
      if (requestBody != null) {
        requestBody.abort(new ExchangeCancelledException());
      }
    }

    Outcome outcome() {
      return status >= 500 ? Outcome.SERVER_ERROR : Outcome.SUCCESS;
    }
  }

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final WorkerProfile profile;
  private final ActorRef<Report> dispatcher;
  private final FrameTransport transport;
  private final WorkerSettings settings;
  private final AgentTraffic traffic;
  private int exchangeCounter;

  /** A report that came before the socket was seen open; passed on once the worker joined. */
  private AgentReport earlyReport;

  private AgentWorker(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      WorkerProfile profile,
      ActorRef<Report> dispatcher,
      WorkerSettings settings,
      AgentTraffic traffic) {
    this.context = context;
    this.traffic = traffic;
    this.timers = timers;
    this.profile = profile;
    this.dispatcher = dispatcher;
    this.settings = settings;
    ActorRef<Command> self = context.getSelf();
    this.transport =
        FrameTransport.create(
            event -> self.tell(new WrappedInbound(event)),
            context.getSystem(),
            settings.heartbeat());
  }

  /**
   * Inline body limit, how long to wait for the agent to confirm a cancel, and the heartbeat pace
   * the agent announced (null for none).
   */
  public record WorkerSettings(int inlineBodyLimit, Duration cancelTimeout, Duration heartbeat) {}

  /**
   * A worker for a connection being upgraded; {@code flowTo} receives the WebSocket flow to run.
   * The worker joins the dispatcher once that flow runs; its requests count in {@code traffic}.
   */
  public static Behavior<Command> create(
      WorkerProfile profile,
      ActorRef<Report> dispatcher,
      WorkerSettings settings,
      AgentTraffic traffic,
      ActorRef<Flow<Message, Message, NotUsed>> flowTo) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> {
                  AgentWorker worker =
                      new AgentWorker(context, timers, profile, dispatcher, settings, traffic);
                  flowTo.tell(worker.transport.flow());
                  context.pipeToSelf(worker.transport.opened(), (done, failure) -> Opened.INSTANCE);
                  timers.startSingleTimer(OpenTimedOut.INSTANCE, OPEN_TIMEOUT);
                  return worker.opening();
                }));
  }

  private Behavior<Command> opening() {
    return Behaviors.receive(Command.class)
        .onMessageEquals(Opened.INSTANCE, this::onOpened)
        .onMessage(WrappedInbound.class, this::onOpeningEvent)
        .onMessageEquals(OpenTimedOut.INSTANCE, this::closing)
        .onMessageEquals(Replace.INSTANCE, this::closing)
        .onMessageEquals(Disconnect.INSTANCE, this::closing)
        .build();
  }

  /** The agent reports as soon as its socket is up, which may be before this side saw it open. */
  private Behavior<Command> onOpeningEvent(WrappedInbound wrapped) {
    if (wrapped.event() instanceof InboundEvent.Notice notice) {
      earlyReport = reportOf(notice);
      if (earlyReport != null) {
        return Behaviors.same();
      }
    }
    return closing();
  }

  private Behavior<Command> onOpened() {
    timers.cancel(OpenTimedOut.INSTANCE);
    dispatcher.tell(new Joined(context.getSelf(), profile));
    if (earlyReport != null) {
      dispatcher.tell(new Reported(context.getSelf(), earlyReport));
    }
    return idle();
  }

  private Behavior<Command> idle() {
    return Behaviors.receive(Command.class)
        .onMessage(Assign.class, this::onAssign)
        .onMessage(WrappedInbound.class, this::onIdleEvent)
        .onMessageEquals(Replace.INSTANCE, this::closing)
        .onMessageEquals(Disconnect.INSTANCE, this::closing)
        .onMessage(ClientGone.class, m -> Behaviors.same())
        .onMessage(ResponseBodyEnded.class, m -> Behaviors.same())
        .onMessage(CancelTimedOut.class, m -> Behaviors.same())
        .build();
  }

  private Behavior<Command> onIdleEvent(WrappedInbound wrapped) {
    if (wrapped.event() instanceof InboundEvent.Notice notice) {
      return onNotice(notice) ? Behaviors.same() : closing();
    }
    if (!(wrapped.event() instanceof InboundEvent.Closed)) {
      context.getLog().warn("Worker {} sent a frame while idle; closing it", profile.slot());
    }
    return closing();
  }

  private Behavior<Command> onAssign(Assign assign) {
    Job job = assign.job();
    int n = ++exchangeCounter;
    SharedKillSwitch requestBody = null;
    boolean sent;
    if (ExchangeFrames.isInline(job.request(), settings.inlineBodyLimit())) {
      Frame.RequestStart whole = ExchangeFrames.inlineRequest(n, job.request());
      traffic.bytes(whole.body().size(), true);
      sent = transport.send(whole);
    } else {
      requestBody = KillSwitches.shared("request-" + n);
      sent =
          transport.send(
              ExchangeFrames.request(
                  n, job.request(), requestBody, bytes -> traffic.bytes(bytes, true)));
    }
    if (!sent) {
      dispatcher.tell(new Bounced(job)); // never taken: the slot still waits
      return closing();
    }
    context
        .getLog()
        .debug(
            "Worker {} carries {} {}",
            profile.slot(),
            job.request().method(),
            job.request().target());
    ActorRef<Command> self = context.getSelf();
    if (!job.slot().assign(() -> self.tell(new ClientGone(n)))) {
      self.tell(new ClientGone(n)); // nothing to carry any more: the application left
    }
    return busy(new Ongoing(n, job, requestBody), false);
  }

  private Behavior<Command> busy(Ongoing ongoing, boolean answered) {
    return Behaviors.receive(Command.class)
        .onMessage(WrappedInbound.class, m -> onBusyEvent(ongoing, answered, m.event()))
        .onMessage(
            ClientGone.class, m -> m.exchange() == ongoing.n() ? cancel(ongoing) : Behaviors.same())
        .onMessage(
            ResponseBodyEnded.class,
            // The body stopped before its last frame came: unless the agent broke it off (its
            // Failure or Closed event is on the way), the application went away.
            m ->
                m.exchange() == ongoing.n() && !m.byTheAgent() ? cancel(ongoing) : Behaviors.same())
        .onMessage(Assign.class, this::onAssignWhileBusy)
        .onMessageEquals(Replace.INSTANCE, () -> lose(ongoing, answered))
        .onMessageEquals(Disconnect.INSTANCE, () -> lose(ongoing, answered))
        .onMessage(CancelTimedOut.class, m -> Behaviors.same())
        .build();
  }

  private Behavior<Command> onBusyEvent(Ongoing ongoing, boolean answered, InboundEvent event) {
    if (event instanceof InboundEvent.Started started
        && started.start() instanceof Frame.ResponseStart head
        && head.exchange() == ongoing.n()
        && !answered) {
      ongoing.status = head.status();
      traffic.answered(head.status(), System.nanoTime() - ongoing.startedNanos);
      traffic.bytes(head.body().size(), false);
      Source<ByteString, NotUsed> body = watched(ongoing, started.body());
      HttpResponse response =
          ExchangeFrames.response(head, body, profile.agentName(), isHead(ongoing));
      if (!head.last()) {
        answer(ongoing, response, body);
        return busy(ongoing, true);
      }
      // Idle first: the application may send its next request the moment it has this answer.
      Behavior<Command> next = idleAgain(ongoing, ongoing.outcome());
      answer(ongoing, response, body);
      return next;
    }
    if (event instanceof InboundEvent.BodyEnded ended && ended.exchange() == ongoing.n()) {
      return idleAgain(ongoing, ongoing.outcome());
    }
    if (event instanceof InboundEvent.Signal signal
        && signal.frame() instanceof Frame.Failure failure
        && failure.exchange() == ongoing.n()) {
      // Once answered, the body already failed, which aborts the application's connection.
      Job charged = charged(ongoing.job, failure.kind());
      if (!answered) {
        answerFailure(charged, failure);
      }
      return idleAgain(ongoing, charged == ongoing.job ? Outcome.NEUTRAL : Outcome.FAILED);
    }
    if (event instanceof InboundEvent.Notice notice) {
      return onNotice(notice) ? Behaviors.same() : lose(ongoing, answered);
    }
    if (event instanceof InboundEvent.Closed) {
      return lose(ongoing, answered);
    }
    if (event.isStaleFor(ongoing.n())) {
      return Behaviors.same();
    }
    context.getLog().warn("Worker {} broke the protocol ({}); closing it", profile.slot(), event);
    return lose(ongoing, answered);
  }

  /**
   * Answers an exchange the agent could not get a response for, as its failure's kind says: through
   * the dispatcher's retry (once, by its rules) when another attempt may help and the agent did not
   * already send the request twice, else at once.
   */
  private void answerFailure(Job job, Frame.Failure failure) {
    ProxyError error = errorOf(failure.kind());
    traffic.stats().error(error.code());
    HttpResponse answer = error.response(failure.reason());
    boolean retryable =
        !failure.resent()
            && (failure.kind() == Frame.Failure.Kind.UNREACHABLE
                || failure.kind() == Frame.Failure.Kind.MALFORMED
                || failure.kind() == Frame.Failure.Kind.CANCELLED);
    if (retryable) {
      // Before turning idle, so the retry cannot land on this worker again.
      job.slot().handBack();
      dispatcher.tell(new Failed(job, profile.agentId(), answer));
    } else {
      job.slot().answer(answer);
      job.slot().finish();
    }
  }

  private static ProxyError errorOf(Frame.Failure.Kind kind) {
    return switch (kind) {
      case TIMEOUT -> ProxyError.UPSTREAM_TIMEOUT;
      case BAD_HEADER -> ProxyError.BAD_HEADER;
      case BAD_TARGET -> ProxyError.BAD_TARGET;
      case UNREACHABLE, MALFORMED, CANCELLED -> ProxyError.UPSTREAM_FAILED;
    };
  }

  /**
   * The job with this failure charged to the agent's health, or the same job when it says nothing
   * of it: the upstream's failures count, once per request and agent; a request the agent refused,
   * or one cancelled, says nothing.
   */
  private Job charged(Job job, Frame.Failure.Kind kind) {
    boolean upstreamFailed =
        kind == Frame.Failure.Kind.UNREACHABLE
            || kind == Frame.Failure.Kind.MALFORMED
            || kind == Frame.Failure.Kind.TIMEOUT;
    return upstreamFailed && job.request().chargesFailureTo(profile.agentId())
        ? job.with(job.request().chargedTo(profile.agentId()))
        : job;
  }

  /** The worker's answer to the application; a response without a streamed body ends here. */
  private static void answer(Ongoing ongoing, HttpResponse response, Source<ByteString, ?> body) {
    ongoing.slot().answer(response);
    if (body == null) {
      ongoing.slot().finish();
    }
  }

  /** Passes the agent's report on; false when it is not one, which breaks the protocol. */
  private boolean onNotice(InboundEvent.Notice notice) {
    AgentReport report = reportOf(notice);
    if (report != null) {
      dispatcher.tell(new Reported(context.getSelf(), report));
    }
    return report != null;
  }

  /** The report a notice carries; null (logged) when it is malformed or not a report. */
  private AgentReport reportOf(InboundEvent.Notice notice) {
    if (notice.frame() instanceof Frame.Report report) {
      try {
        return AgentReport.fromJson(report.json());
      } catch (IllegalArgumentException e) {
        context
            .getLog()
            .warn(
                "Worker {} sent a malformed report ({}); closing it",
                profile.slot(),
                e.getMessage());
      }
    }
    return null;
  }

  private Behavior<Command> cancel(Ongoing ongoing) {
    context.getLog().debug("Worker {}: application went away, cancelling", profile.slot());
    ongoing.stopRequestBody();
    transport.send(new Frame.Cancel(ongoing.n()));
    ongoing.slot().finish();
    timers.startSingleTimer(new CancelTimedOut(ongoing.n()), settings.cancelTimeout());
    return cancelling(ongoing);
  }

  private Behavior<Command> cancelling(Ongoing ongoing) {
    return Behaviors.receive(Command.class)
        .onMessage(WrappedInbound.class, m -> onCancellingEvent(ongoing, m.event()))
        .onMessage(
            CancelTimedOut.class,
            m -> {
              context
                  .getLog()
                  .warn(
                      "Worker {} did not confirm a cancel within {}; closing it",
                      profile.slot(),
                      settings.cancelTimeout());
              return closing();
            })
        .onMessage(Assign.class, this::onAssignWhileBusy)
        .onMessageEquals(Replace.INSTANCE, this::closing)
        .onMessageEquals(Disconnect.INSTANCE, this::closing)
        .onMessage(ClientGone.class, m -> Behaviors.same())
        .onMessage(ResponseBodyEnded.class, m -> Behaviors.same())
        .build();
  }

  private Behavior<Command> onCancellingEvent(Ongoing ongoing, InboundEvent event) {
    if (event instanceof InboundEvent.Closed) {
      return closing();
    }
    if (event.endsExchange(ongoing.n())) {
      timers.cancel(new CancelTimedOut(ongoing.n()));
      transport.discard(ongoing.n());
      return idleAgain(ongoing, Outcome.NEUTRAL);
    }
    if (event instanceof InboundEvent.Notice notice) {
      return onNotice(notice) ? Behaviors.same() : closing();
    }
    if (event instanceof InboundEvent.Started started && started.body() != null) {
      transport.discard(started.start().exchange()); // nobody will read it
    }
    return Behaviors.same();
  }

  private Behavior<Command> onAssignWhileBusy(Assign assign) {
    context.getLog().error("Worker {} was assigned a request while busy", profile.slot());
    dispatcher.tell(new Bounced(assign.job()));
    return Behaviors.same();
  }

  private Behavior<Command> idleAgain(Ongoing ongoing, Outcome outcome) {
    // The upstream answered: whatever of the request body is left is not needed. Aborting (not
    // completing) it makes sure the agent can never take a cut body for a whole one.
    ongoing.stopRequestBody();
    traffic.stats().ended(System.nanoTime() - ongoing.startedNanos);
    dispatcher.tell(new Idle(context.getSelf(), outcome));
    return idle();
  }

  /**
   * The connection failed with an exchange in flight: unless part of the answer went out already,
   * the dispatcher may try it again on another worker.
   */
  private Behavior<Command> lose(Ongoing ongoing, boolean answered) {
    ongoing.stopRequestBody();
    traffic.stats().error("agent-lost");
    if (answered) {
      ongoing.slot().answer(ProxyError.AGENT_LOST.response());
      ongoing.slot().finish();
    } else {
      ongoing.slot().handBack();
      dispatcher.tell(new Failed(ongoing.job, profile.agentId(), ProxyError.AGENT_LOST.response()));
    }
    return closing();
  }

  /**
   * Leaves the pool: closes the socket and waits until the dispatcher has forgotten this worker,
   * sending back any assignment still on its way.
   */
  private Behavior<Command> closing() {
    transport.close();
    dispatcher.tell(new Left(context.getSelf()));
    return Behaviors.receive(Command.class)
        .onMessage(
            Assign.class,
            m -> {
              dispatcher.tell(new Bounced(m.job()));
              return Behaviors.same();
            })
        .onMessageEquals(Released.INSTANCE, Behaviors::stopped)
        .onAnyMessage(m -> Behaviors.same())
        .build();
  }

  /**
   * The response body, reporting to this worker when it stops, however it stops; its end finishes
   * the slot, whose last holder it is once the worker is idle again.
   */
  private Source<ByteString, NotUsed> watched(Ongoing ongoing, Source<ByteString, NotUsed> body) {
    if (body == null) {
      return null;
    }
    ActorRef<Command> self = context.getSelf();
    int n = ongoing.n();
    ResponseSlot slot = ongoing.slot();
    return body.map(
            bytes -> {
              traffic.bytes(bytes.size(), false);
              return bytes;
            })
        .watchTermination(
            (notUsed, done) -> {
              done.whenComplete(
                  (ok, failure) -> {
                    slot.finish();
                    self.tell(new ResponseBodyEnded(n, failure instanceof BodyLostException));
                  });
              return notUsed;
            });
  }

  private static boolean isHead(Ongoing ongoing) {
    return ongoing.job.request().method().equals("HEAD");
  }

  /** Stops a request body whose exchange ended early. */
  private static final class ExchangeCancelledException extends RuntimeException {
    ExchangeCancelledException() {
      super("exchange cancelled", null, false, false);
    }
  }
}
