package io.slime.agent.upstream;

import io.slime.agent.settings.AgentSettings;
import io.slime.shared.net.ServiceAddress;
import io.slime.shared.protocol.Frame;
import java.util.concurrent.CompletionException;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.BehaviorBuilder;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.settings.ClientConnectionSettings;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.SharedKillSwitch;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The upstream half of one worker: carries each request its hub connection hands it to the
 * upstream, on the worker's one {@link UpstreamConnection}, and the answer back to the hub as
 * frames, one exchange at a time.
 *
 * <p>States: {@link #idle()} → on {@link Serve} {@link #waitingForHead} (the request goes out, its
 * body streamed from the hub) → the head arrives: {@link #responding} (the response's frames are
 * queued, with a kill switch between the upstream body and the WebSocket) → {@link #idle()} once
 * they are all out. A whole answer in one frame, a refusal, a failure, a cancel, a timeout or the
 * loss of the hub connection end the exchange at once and return to {@link #idle()}.
 *
 * <p>Talks to: its parent, the worker's hub connection, which tells it {@link Serve}, {@link
 * BodyEnded}, {@link Cancel} and {@link HubLost} in the order the socket gave them; the hub through
 * the {@link HubFrames} each {@link Serve} brings; the upstream. A failure stops it, and its
 * parent, which watches it, starts the whole worker over.
 *
 * <p>Cancel (or losing the hub) tears the upstream connection down, so the upstream sees its client
 * leave, and ends the exchange with {@code Failure("cancelled")} unless its terminal frame was
 * already out. Once the whole request is out, the upstream has the response timeout to send its
 * head; a timed-out exchange ends with a timeout Failure and the worker is free at once.
 *
 * <p>A request is sent a second time only when a kept-alive connection closed before a byte of its
 * response arrived (the upstream closed it as the request went out); never after a malformed answer
 * or a timeout, so with the hub's own single retry the upstream sees a request at most twice.
 */
public final class UpstreamWorker {

  public sealed interface Command {}

  /** A request from the hub: {@code body} is null when the whole body is in {@code start}. */
  public record Serve(Frame.RequestStart start, Source<ByteString, NotUsed> body, HubFrames hub)
      implements Command {}

  /** The hub sent the last piece of this exchange's streamed request body. */
  public record BodyEnded(int exchange) implements Command {}

  /** The hub gave up on this exchange. */
  public record Cancel(int exchange) implements Command {}

  /** The hub connection is gone: whatever is in progress ends without an answer. */
  public enum HubLost implements Command {
    INSTANCE
  }

  private record WrappedUpstreamResponse(
      Exchange exchange, int attempt, boolean resendable, HttpResponse response, Throwable failure)
      implements Command {}

  /** The exchange's response frames have all passed (or their stream failed). */
  private record ExchangeDone(Exchange exchange) implements Command {}

  /** An exchange's response body broke off upstream (timeout, malformed, connection lost). */
  private record ResponseBroke(int exchange, String reason) implements Command {}

  /** The upstream sent no response head in time for this exchange. */
  private record ResponseTimedOut(Exchange exchange) implements Command {}

  /** The single timer key: one exchange at a time waits for its head. */
  private static final Object RESPONSE_TIMER = "response-timeout";

  /** One request's life on this worker. Touched only by the actor. */
  private static final class Exchange {
    final int number;
    final boolean streamedBody;
    final HubFrames hub;
    SharedKillSwitch killSwitch; // only once the response streams
    HttpRequest request;
    boolean bodyEnded;
    // The request was sent on a new connection after the first attempt's closed unanswered.
    boolean resent;
    // Read by the response stream when it fails, hence volatile.
    volatile String abortReason;

    Exchange(int number, boolean streamedBody, HubFrames hub) {
      this.number = number;
      this.streamedBody = streamedBody;
      this.hub = hub;
    }
  }

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final AgentSettings settings;
  private final String worker;
  private final String upstreamName;
  private final UpstreamConnection upstream;
  private final UpstreamRequests requests;
  private final Materializer materializer;
  private boolean upstreamDown;

  private UpstreamWorker(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      AgentSettings settings,
      ClientConnectionSettings client,
      ServiceAddress upstreamAddress,
      String worker) {
    this.context = context;
    this.timers = timers;
    this.settings = settings;
    this.worker = worker;
    this.upstreamName = upstreamAddress.toString();
    this.upstream = new UpstreamConnection(upstreamAddress, client, context.getSystem());
    this.requests = new UpstreamRequests(upstreamAddress);
    this.materializer = Materializer.matFromSystem(context.getSystem());
  }

  /**
   * @param client the settings of the connection to the upstream, shared by a process's workers
   * @param worker how logs name the worker: {@code agentId/index}
   */
  public static Behavior<Command> create(
      AgentSettings settings,
      ClientConnectionSettings client,
      ServiceAddress upstream,
      String worker) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    new UpstreamWorker(context, timers, settings, client, upstream, worker)
                        .idle()));
  }

  // ---- idle ----

  private Behavior<Command> idle() {
    return withFallbacks(Behaviors.receive(Command.class).onMessage(Serve.class, this::start));
  }

  // ---- waiting for the response head ----

  private Behavior<Command> waitingForHead(Exchange exchange) {
    return withFallbacks(
        Behaviors.receive(Command.class)
            .onMessage(
                Serve.class,
                m -> {
                  abandon(exchange, m.start().exchange());
                  return start(m);
                })
            .onMessage(
                BodyEnded.class,
                m -> m.exchange() == exchange.number ? onBodyEnded(exchange) : Behaviors.same())
            .onMessage(
                Cancel.class,
                m -> m.exchange() == exchange.number ? onCancel(exchange) : onCancelOfFinished(m))
            .onMessageEquals(HubLost.INSTANCE, () -> onHubLost(exchange))
            .onMessage(
                WrappedUpstreamResponse.class,
                m ->
                    m.exchange() == exchange
                        ? onUpstreamResponse(exchange, m)
                        : onStaleUpstreamResponse(m))
            .onMessage(
                ResponseTimedOut.class,
                m -> m.exchange() == exchange ? onResponseTimedOut(exchange) : Behaviors.same()));
  }

  /** The hub sent a new request before this one was answered: this one ends cancelled. */
  private void abandon(Exchange exchange, int next) {
    context
        .getLog()
        .warn(
            "Worker [{}] got exchange {} while {} is in progress; abandoning {}",
            worker,
            next,
            exchange.number,
            exchange.number);
    failNow(exchange, "superseded by exchange " + next, Frame.Failure.Kind.CANCELLED);
  }

  private Behavior<Command> onBodyEnded(Exchange exchange) {
    exchange.bodyEnded = true;
    startResponseTimer(exchange);
    return Behaviors.same();
  }

  private Behavior<Command> onCancel(Exchange exchange) {
    context.getLog().debug("Worker [{}] exchange {} cancelled", worker, exchange.number);
    failNow(exchange, "cancelled", Frame.Failure.Kind.CANCELLED);
    return idle();
  }

  private Behavior<Command> onResponseTimedOut(Exchange exchange) {
    String reason =
        "upstream "
            + upstreamName
            + " sent no response head within "
            + settings.responseTimeout().toMillis()
            + " ms";
    context.getLog().warn("Worker [{}] exchange {}: {}", worker, exchange.number, reason);
    failNow(exchange, reason, Frame.Failure.Kind.TIMEOUT);
    return idle();
  }

  private Behavior<Command> onUpstreamResponse(Exchange exchange, WrappedUpstreamResponse m) {
    timers.cancel(RESPONSE_TIMER);
    if (m.failure() != null) {
      return onUpstreamFailure(exchange, m);
    }
    if (upstreamDown) {
      upstreamDown = false;
      context.getLog().info("Worker [{}] upstream {} answers again", worker, upstreamName);
    }
    context
        .getLog()
        .debug(
            "Worker [{}] exchange {}: upstream answered {}",
            worker,
            exchange.number,
            m.response().status().intValue());
    Frame whole = ResponseFrames.whole(exchange.number, m.response());
    if (whole != null) {
      sendWhole(exchange, whole);
      return idle();
    }
    var self = context.getSelf();
    exchange.killSwitch = KillSwitches.shared("exchange-" + exchange.number);
    Source<Frame, NotUsed> frames =
        ResponseFrames.of(
            exchange.number,
            m.response(),
            settings.inlineBodyLimit(),
            settings.responseBodyIdleTimeout(),
            exchange.killSwitch,
            () -> exchange.abortReason,
            failure -> self.tell(new ResponseBroke(exchange.number, failure.reason())),
            upstreamName);
    boolean sent =
        exchange.hub.send(
            frames.watchTermination(
                (mat, done) -> {
                  done.whenComplete((ok, failure) -> self.tell(new ExchangeDone(exchange)));
                  return mat;
                }));
    if (!sent) {
      notSent(exchange);
    }
    return responding(exchange);
  }

  /**
   * No response head came. Only when not a byte of one arrived on a kept-alive connection is the
   * request sent again (once, if idempotent and whole); a malformed answer is the upstream's
   * failure and is never resent here.
   */
  private Behavior<Command> onUpstreamFailure(Exchange exchange, WrappedUpstreamResponse m) {
    Throwable failure = unwrapped(m.failure());
    UpstreamConnection.FailedException.Why why =
        failure instanceof UpstreamConnection.FailedException failed ? failed.why() : null;
    if (m.attempt() == 0
        && m.resendable()
        && (why == UpstreamConnection.FailedException.Why.CLOSED
            || why == UpstreamConnection.FailedException.Why.NO_RESPONSE)
        && UpstreamRequests.replayable(exchange.request)) {
      // A kept-alive connection the upstream closed just as the request went out: nothing of the
      // response arrived, so an idempotent request is safe to send once more on a new connection.
      context
          .getLog()
          .debug(
              "Worker [{}] exchange {}: retrying on a new connection after: {}",
              worker,
              exchange.number,
              ResponseFrames.describe(failure));
      upstream.abort("retrying");
      exchange.resent = true;
      send(exchange, 1);
      return Behaviors.same();
    }
    upstream.abort("request failed");
    Frame.Failure answer;
    if (why == UpstreamConnection.FailedException.Why.MALFORMED) {
      String reason = "upstream " + upstreamName + " sent a " + failure.getMessage();
      context.getLog().warn("Worker [{}] exchange {}: {}", worker, exchange.number, reason);
      answer = failure(exchange, reason, Frame.Failure.Kind.MALFORMED);
    } else {
      String reason =
          switch (why == null ? UpstreamConnection.FailedException.Why.NO_RESPONSE : why) {
            case BROKE_OFF ->
                "upstream "
                    + upstreamName
                    + " broke off its response head: "
                    + failure.getMessage();
            case CLOSED -> "upstream " + upstreamName + " closed the connection without answering";
            default ->
                "upstream " + upstreamName + " unreachable: " + ResponseFrames.describe(failure);
          };
      if (!upstreamDown) {
        upstreamDown = true;
        context.getLog().warn("Worker [{}] {}", worker, reason);
      }
      answer = failure(exchange, reason, Frame.Failure.Kind.UNREACHABLE);
    }
    sendWhole(exchange, answer);
    return idle();
  }

  private static Throwable unwrapped(Throwable failure) {
    Throwable t = failure;
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  // ---- responding ----

  private Behavior<Command> responding(Exchange exchange) {
    return withFallbacks(
        Behaviors.receive(Command.class)
            .onMessage(
                Serve.class,
                m -> {
                  // The hub sends a new request only after it received the last frame of this
                  // one, so this response is out even if its stream's end has not reached us yet.
                  complete(exchange);
                  return start(m);
                })
            .onMessage(
                BodyEnded.class,
                m -> {
                  if (m.exchange() == exchange.number) {
                    exchange.bodyEnded = true;
                  }
                  return Behaviors.same();
                })
            .onMessage(
                Cancel.class,
                m ->
                    m.exchange() == exchange.number
                        ? onCancelWhileResponding(exchange)
                        : onCancelOfFinished(m))
            .onMessageEquals(HubLost.INSTANCE, () -> onHubLost(exchange))
            .onMessage(
                ExchangeDone.class,
                m -> {
                  if (m.exchange() != exchange) {
                    return Behaviors.same();
                  }
                  complete(exchange);
                  return idle();
                }));
  }

  private Behavior<Command> onCancelWhileResponding(Exchange exchange) {
    context.getLog().debug("Worker [{}] exchange {} cancelled", worker, exchange.number);
    cut(exchange, "cancelled");
    // Fails the response stream unless its terminal frame already passed: then Failure follows.
    stopResponse(exchange, "cancelled");
    return idle();
  }

  // ---- every state ----

  /**
   * Ends a state's handlers with those every state shares: results of earlier exchanges, which
   * change nothing, and stopping. The state's own handlers come first and win.
   */
  private Behavior<Command> withFallbacks(BehaviorBuilder<Command> state) {
    return state
        .onMessage(BodyEnded.class, m -> Behaviors.same())
        .onMessage(Cancel.class, this::onCancelOfFinished)
        .onMessageEquals(HubLost.INSTANCE, Behaviors::same)
        .onMessage(WrappedUpstreamResponse.class, this::onStaleUpstreamResponse)
        .onMessage(ExchangeDone.class, m -> Behaviors.same())
        .onMessage(ResponseTimedOut.class, m -> Behaviors.same())
        .onMessage(ResponseBroke.class, this::onResponseBroke)
        .onSignal(PostStop.class, signal -> onStop())
        .build();
  }

  /** A new exchange: refused here with a Failure, or sent to the upstream. */
  private Behavior<Command> start(Serve m) {
    Frame.RequestStart start = m.start();
    Exchange exchange = new Exchange(start.exchange(), m.body() != null, m.hub());
    context
        .getLog()
        .debug(
            "Worker [{}] exchange {}: {} {}",
            worker,
            start.exchange(),
            start.method(),
            start.target());
    try {
      exchange.request = requests.build(start, m.body());
    } catch (UpstreamRequests.RefusedException e) {
      if (exchange.streamedBody) {
        exchange.hub.discard(start.exchange());
      }
      context
          .getLog()
          .warn(
              "Worker [{}] exchange {}: refused to forward {} {}: {}",
              worker,
              start.exchange(),
              start.method(),
              UpstreamRequests.printable(start.target()),
              e.getMessage());
      sendWhole(
          exchange, failure(exchange, "cannot forward the request: " + e.getMessage(), e.kind()));
      return idle();
    }
    send(exchange, 0);
    return waitingForHead(exchange);
  }

  private void send(Exchange exchange, int attempt) {
    UpstreamConnection.Sent sent = upstream.send(exchange.request);
    boolean resendable = sent.neverSent() || sent.reused();
    if (!exchange.streamedBody || exchange.bodyEnded) {
      startResponseTimer(exchange);
    }
    context.pipeToSelf(
        sent.response(),
        (response, failure) ->
            new WrappedUpstreamResponse(exchange, attempt, resendable, response, failure));
  }

  /** The whole request is out: the upstream's head is due within the response timeout. */
  private void startResponseTimer(Exchange exchange) {
    timers.startSingleTimer(
        RESPONSE_TIMER, new ResponseTimedOut(exchange), settings.responseTimeout());
  }

  private Behavior<Command> onCancelOfFinished(Cancel m) {
    context.getLog().debug("Worker [{}] cancel of finished exchange {}", worker, m.exchange());
    return Behaviors.same();
  }

  private Behavior<Command> onResponseBroke(ResponseBroke m) {
    context.getLog().warn("Worker [{}] exchange {}: {}", worker, m.exchange(), m.reason());
    return Behaviors.same();
  }

  /** The hub is gone, and so is anyone to answer: the upstream call and the response stop. */
  private Behavior<Command> onHubLost(Exchange exchange) {
    timers.cancel(RESPONSE_TIMER);
    exchange.abortReason = "hub connection lost";
    upstream.abort("hub connection lost");
    stopResponse(exchange, "hub connection lost");
    return idle();
  }

  private Behavior<Command> onStaleUpstreamResponse(WrappedUpstreamResponse m) {
    if (m.response() != null) {
      m.response().discardEntityBytes(materializer);
    }
    return Behaviors.same();
  }

  private Behavior<Command> onStop() {
    upstream.abort("agent stopping");
    return Behaviors.same();
  }

  /** Ends an exchange before its head: cuts the upstream call and answers with a Failure. */
  private void failNow(Exchange exchange, String reason, Frame.Failure.Kind kind) {
    cut(exchange, reason);
    sendWhole(exchange, failure(exchange, reason, kind));
  }

  /** Cuts the upstream call in flight and the rest of the request body from the hub. */
  private void cut(Exchange exchange, String reason) {
    timers.cancel(RESPONSE_TIMER);
    exchange.abortReason = reason;
    upstream.abort(reason);
    if (exchange.streamedBody && !exchange.bodyEnded) {
      exchange.hub.discard(exchange.number);
    }
  }

  private static void stopResponse(Exchange exchange, String reason) {
    if (exchange.killSwitch != null) {
      exchange.killSwitch.abort(new UpstreamConnection.AbortedException(reason));
    }
  }

  /** The whole answer in one frame: nothing is left to stream, so the exchange is over here. */
  private void sendWhole(Exchange exchange, Frame frame) {
    if (!exchange.hub.send(frame)) {
      notSent(exchange);
    }
    complete(exchange);
  }

  private void notSent(Exchange exchange) {
    // The connection is closing: its loss follows (HubLost) and ends the exchange.
    context
        .getLog()
        .debug(
            "Worker [{}] could not send exchange {}: connection closed", worker, exchange.number);
  }

  /** The exchange's frames are all out: this worker is free for the next request. */
  private void complete(Exchange exchange) {
    timers.cancel(RESPONSE_TIMER);
    if (exchange.streamedBody && !exchange.bodyEnded) {
      // The upstream answered before it read the whole request body: drop the rest as it arrives,
      // and never reuse a connection that still has half a request in it.
      exchange.hub.discard(exchange.number);
      upstream.abort("response ended before the request body");
    } else if (!upstream.responseEnded()) {
      // The response was cut (body timeout, malformed chunk): its framing is in doubt.
      upstream.abort("the response did not end cleanly");
    }
    context.getLog().debug("Worker [{}] exchange {} done", worker, exchange.number);
  }

  private static Frame.Failure failure(Exchange exchange, String reason, Frame.Failure.Kind kind) {
    return new Frame.Failure(exchange.number, reason, kind, exchange.resent);
  }
}
