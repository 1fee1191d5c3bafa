package io.slime.agent.connection;

import io.slime.agent.AgentSettings;
import io.slime.agent.upstream.ResponseFrames;
import io.slime.agent.upstream.UpstreamConnection;
import io.slime.agent.upstream.UpstreamRequests;
import io.slime.shared.SlimeVersion;
import io.slime.shared.agent.AgentReport;
import io.slime.shared.agent.AgentTerms;
import io.slime.shared.agent.Labels;
import io.slime.shared.net.ServiceAddress;
import io.slime.shared.protocol.Frame;
import io.slime.shared.protocol.SlimeHeaders;
import io.slime.shared.stream.FrameTransport;
import io.slime.shared.stream.InboundEvent;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.BehaviorBuilder;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.settings.ClientConnectionSettings;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.SharedKillSwitch;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * One worker of an agent: a WebSocket it opens to the hub, over which it carries one request at a
 * time to its upstream, on its own {@link UpstreamConnection}.
 *
 * <p>States: {@link #connecting()} (upgrade in flight; the socket is read only once it is in) →
 * {@link #connected()} (serves exchanges) → on loss or refusal {@link #backingOff(Duration)}
 * (exponential backoff with jitter; a minute when the hub refuses the token) → {@link
 * #connecting()} again, forever.
 *
 * <p>Talks to: the hub through a {@link FrameTransport} (inbound events arrive as {@code
 * WrappedInbound}, outbound frames go as one Source per exchange), and the upstream. Its agent's
 * monitor tells it each new {@link NewReport}; it passes the latest on to the hub as a {@link
 * Frame.Report} right after each upgrade and whenever a new one arrives while connected. It keeps
 * serving while its upstream is unhealthy: the hub stops sending, and what was on its way is
 * served. Started by the agents' guardian, one per worker; it stops only with the actor system.
 *
 * <p>Per exchange: RequestStart → upstream request (body streamed from the hub) → the response's
 * frames, with a kill switch between the upstream body and the WebSocket. Cancel (or losing the
 * hub) tears the upstream connection down, so the upstream sees its client leave, and ends the
 * exchange with {@code Failure("cancelled")} unless its terminal frame was already out. Once the
 * whole request is out, the upstream has the response timeout to send its head; a timed-out
 * exchange ends with a timeout Failure and the worker is free at once.
 *
 * <p>A request is sent a second time only when a kept-alive connection closed before a byte of its
 * response arrived (the upstream closed it as the request went out); never after a malformed answer
 * or a timeout, so with the hub's own single retry the upstream sees a request at most twice.
 */
public final class HubConnection {

  public sealed interface Command {}

  /** The agent's latest report from its monitor: sent to the hub now, or once connected. */
  public record NewReport(AgentReport report) implements Command {}

  /** The report queued in {@code session}'s transport is out. */
  private record ReportOut(int session) implements Command {}

  private record WrappedUpgrade(int session, JdkHubSocket socket, Throwable failure)
      implements Command {}

  private record WrappedRefusal(int session, String reason, boolean tokenRefused)
      implements Command {}

  private record WrappedInbound(int session, InboundEvent event) implements Command {}

  private record WrappedUpstreamResponse(
      Exchange exchange, int attempt, boolean resendable, HttpResponse response, Throwable failure)
      implements Command {}

  private record ExchangeDone(Exchange exchange) implements Command {}

  /** An exchange's response body broke off upstream (timeout, malformed, connection lost). */
  private record ResponseBroke(int exchange, String reason) implements Command {}

  /** The upstream sent no response head in time for this exchange. */
  private record ResponseTimedOut(Exchange exchange) implements Command {}

  /** The single timer key: one exchange at a time waits for its head. */
  private static final Object RESPONSE_TIMER = "response-timeout";

  private enum Reconnect implements Command {
    INSTANCE
  }

  /** HTTP client settings shared by all workers of a process: built once, not per worker. */
  public record Clients(HttpClient hub, ClientConnectionSettings upstream) {
    public static Clients create(AgentSettings settings, ActorSystem<?> system) {
      ClientConnectionSettings base = ClientConnectionSettings.create(system.classicSystem());
      HttpClient hub =
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .sslContext(settings.hubTrust().context())
              .executor(Runnable::run)
              .build();
      ClientConnectionSettings upstream =
          base.withConnectingTimeout(settings.upstreamConnectingTimeout())
              // The application's User-Agent goes through; none is added when it sent none.
              .withUserAgentHeader(Optional.empty());
      upstream =
          settings.upstreamIdleTimeout().isPresent()
              ? upstream.withIdleTimeout(settings.upstreamIdleTimeout().get())
              : upstream.withIdleTimeout(scala.concurrent.duration.Duration.Inf());
      return new Clients(hub, upstream);
    }
  }

  /** A connection must stay up this long before the backoff starts over. */
  private static final Duration STABLE_AFTER = Duration.ofSeconds(5);

  /** How often a worker whose token the hub refuses tries again (or the maximum backoff). */
  private static final Duration TOKEN_RETRY = Duration.ofSeconds(60);

  /** The hub's Slime-Error for a token it does not take. */
  private static final String TOKEN_REFUSED = "agent-token-refused";

  /** How long the WebSocket upgrade may take, connecting included. */
  private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

  /** One request's life on this worker. Touched only by the actor. */
  private static final class Exchange {
    final int number;
    final boolean streamedBody;
    SharedKillSwitch killSwitch; // only once the response streams
    HttpRequest request;
    boolean bodyEnded;
    boolean responding;
    // The request was sent on a new connection after the first attempt's closed unanswered.
    boolean resent;
    // Read by the response stream when it fails, hence volatile.
    volatile String abortReason;

    Exchange(int number, boolean streamedBody) {
      this.number = number;
      this.streamedBody = streamedBody;
    }
  }

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final AgentSettings settings;
  private final Clients clients;
  private final String agentId;
  private final int index;
  private final ServiceAddress upstreamAddress;
  private final String upstreamName;
  private final UpstreamConnection upstream;
  private final UpstreamRequests requests;
  private final Materializer materializer;
  private final Backoff backoff;
  private final Map<String, String> handshake;

  private int session;
  private int hubIndex;
  private FrameTransport transport;
  private JdkHubSocket socket;
  private Exchange current;
  private long connectedAt;
  private String lastProblem;
  private boolean upstreamDown;
  private AgentReport report; // null until the monitor's first
  private AgentReport reportSent;
  private boolean reportQueued;

  private HubConnection(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      AgentSettings settings,
      Clients clients,
      String agentId,
      int index,
      ServiceAddress upstreamAddress) {
    this.context = context;
    this.timers = timers;
    this.settings = settings;
    this.clients = clients;
    this.agentId = agentId;
    this.index = index;
    this.upstreamAddress = upstreamAddress;
    this.upstreamName = upstreamAddress.toString();
    this.upstream =
        new UpstreamConnection(upstreamAddress, clients.upstream(), context.getSystem());
    this.requests = new UpstreamRequests(upstreamAddress);
    this.materializer = Materializer.matFromSystem(context.getSystem());
    this.backoff =
        new Backoff(settings.minBackoff(), settings.maxBackoff(), settings.randomFactor());
    // Workers spread over the hub nodes given.
    this.hubIndex = index % settings.hubs().size();
    this.handshake = handshake(settings, agentId, index);
  }

  /**
   * The headers of every upgrade (and of the probe that asks a refusal's reason): who this worker
   * is, its heartbeat, its version, and the terms the agent sets (only those it sets, so the hub
   * tells "not set" from any value).
   */
  private static Map<String, String> handshake(AgentSettings settings, String agentId, int index) {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put(SlimeHeaders.AGENT_TOKEN, settings.token());
    headers.put(SlimeHeaders.AGENT_ID, agentId);
    headers.put(SlimeHeaders.WORKER_INDEX, Integer.toString(index));
    headers.put(SlimeHeaders.HEARTBEAT, Long.toString(settings.keepAlive().toMillis()));
    headers.put(SlimeHeaders.AGENT_VERSION, SlimeVersion.get());
    AgentTerms terms = settings.terms();
    if (terms.weight() != null) {
      headers.put(SlimeHeaders.AGENT_WEIGHT, terms.weight().toString());
    }
    if (!terms.labels().isEmpty()) {
      headers.put(SlimeHeaders.AGENT_LABELS, Labels.format(terms.labels()));
    }
    if (terms.rpm() != null) {
      headers.put(SlimeHeaders.AGENT_RPM, terms.rpm().toString());
    }
    if (terms.bpm() != null) {
      headers.put(SlimeHeaders.AGENT_BPM, terms.bpm().toString());
    }
    return Map.copyOf(headers);
  }

  /** The hub node this worker connects to now. */
  private ServiceAddress hub() {
    return settings.hubs().get(hubIndex);
  }

  public static Behavior<Command> create(
      AgentSettings settings, Clients clients, String agentId, int index, ServiceAddress upstream) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    new HubConnection(context, timers, settings, clients, agentId, index, upstream)
                        .connecting()));
  }

  // ---- connecting ----

  private Behavior<Command> connecting() {
    session++;
    int thisSession = session;
    var self = context.getSelf();
    transport =
        FrameTransport.create(
            event -> self.tell(new WrappedInbound(thisSession, event)),
            context.getSystem(),
            settings.keepAlive());
    var upgrade =
        JdkHubSocket.open(
            clients.hub(),
            URI.create(hub().webSocketUri(SlimeHeaders.CONNECT_PATH)),
            handshake,
            HANDSHAKE_TIMEOUT);
    context.pipeToSelf(
        upgrade, (socket, failure) -> new WrappedUpgrade(thisSession, socket, failure));
    return withFallbacks(
        Behaviors.receive(Command.class)
            .onMessage(WrappedUpgrade.class, this::onUpgrade)
            .onMessage(WrappedRefusal.class, this::onRefusal));
  }

  private Behavior<Command> onUpgrade(WrappedUpgrade m) {
    if (m.session() != session) {
      return onStaleUpgrade(m);
    }
    Throwable failure =
        m.failure() instanceof CompletionException wrapped && wrapped.getCause() != null
            ? wrapped.getCause()
            : m.failure();
    if (failure instanceof WebSocketHandshakeException refused) {
      int status = refused.getResponse().statusCode();
      boolean tokenRefused =
          refused
              .getResponse()
              .headers()
              .firstValue(SlimeHeaders.ERROR)
              .filter(TOKEN_REFUSED::equals)
              .isPresent();
      int thisSession = session;
      // The JDK keeps no body of a refused upgrade, so ask again without upgrading to learn the
      // hub's own reason (for example why a token was refused). Only on refusals, which back off.
      context.pipeToSelf(
          refusalReason(status),
          (reason, ignored) ->
              new WrappedRefusal(
                  thisSession,
                  reason == null || reason.isEmpty() ? "status " + status : status + " " + reason,
                  tokenRefused));
      return Behaviors.same();
    }
    if (failure != null) {
      return problem("hub " + hub() + " unreachable: " + ResponseFrames.describe(failure));
    }
    socket = m.socket();
    socket.run(transport.flow(), materializer);
    reportQueued = false;
    // The hub assumes a healthy agent until it hears otherwise: tell it first thing.
    sendReport();
    connectedAt = System.nanoTime();
    lastProblem = null;
    context
        .getLog()
        .info(
            "Worker [{}/{}] connected to hub {} for upstream {}",
            agentId,
            index,
            hub(),
            upstreamName);
    return connected();
  }

  private Behavior<Command> onRefusal(WrappedRefusal m) {
    if (m.session() != session) {
      return Behaviors.same();
    }
    String refusal = "hub " + hub() + " refused the worker: " + m.reason();
    if (m.tokenRefused()) {
      // A revoked, expired or foreign token stays refused: no point in retrying like a network
      // fault, and every attempt costs the hub a log line.
      Duration retry = tokenRetry();
      return problem(
          refusal
              + "; the token will not work until it is replaced (slime hub register); retrying"
              + " every "
              + retry.toSeconds()
              + " s",
          retry);
    }
    return problem(refusal);
  }

  // ---- connected ----

  private Behavior<Command> connected() {
    return withFallbacks(
        Behaviors.receive(Command.class)
            .onMessage(WrappedInbound.class, this::onInbound)
            .onMessage(WrappedUpstreamResponse.class, this::onUpstreamResponse)
            .onMessage(ResponseTimedOut.class, this::onResponseTimedOut)
            .onMessage(ResponseBroke.class, this::onResponseBroke)
            .onMessage(ExchangeDone.class, this::onExchangeDone)
            .onMessage(NewReport.class, this::onNewReport)
            .onMessage(ReportOut.class, this::onReportOut));
  }

  private Behavior<Command> onNewReport(NewReport m) {
    report = m.report();
    sendReport();
    return Behaviors.same();
  }

  private Behavior<Command> onReportOut(ReportOut m) {
    if (m.session() == session) {
      reportQueued = false;
      if (!report.equals(reportSent)) {
        sendReport();
      }
    }
    return Behaviors.same();
  }

  /**
   * Queues the latest report, unless one is still queued: then the latest follows once that one is
   * out. Queued frames wait behind a streaming response, which may take minutes, and the
   * transport's queue is small, so a report every few seconds must not pile up there.
   */
  private void sendReport() {
    if (report == null || reportQueued) {
      return;
    }
    int thisSession = session;
    var self = context.getSelf();
    Source<Frame, NotUsed> frame =
        Source.<Frame>single(new Frame.Report(report.toJson()))
            .watchTermination(
                (mat, done) -> {
                  done.whenComplete((ok, failure) -> self.tell(new ReportOut(thisSession)));
                  return mat;
                });
    reportQueued = transport.send(frame);
    reportSent = report;
  }

  private Behavior<Command> onInbound(WrappedInbound m) {
    InboundEvent event = m.event();
    if (m.session() != session) {
      return onStaleInbound(m);
    }
    if (event instanceof InboundEvent.Started started) {
      if (started.start() instanceof Frame.RequestStart start) {
        onRequest(start, started.body());
      } else {
        context
            .getLog()
            .warn(
                "Worker [{}/{}] ignores a {} from the hub",
                agentId,
                index,
                started.start().getClass().getSimpleName());
        if (started.body() != null) {
          transport.discard(started.start().exchange());
        }
      }
    } else if (event instanceof InboundEvent.BodyEnded ended) {
      if (current != null && current.number == ended.exchange()) {
        current.bodyEnded = true;
        if (!current.responding) {
          startResponseTimer(current);
        }
      }
    } else if (event instanceof InboundEvent.Signal signal) {
      onCancel(signal.frame().exchange());
    } else if (event instanceof InboundEvent.Closed closed) {
      return onLost(closed.failure());
    } else if (event instanceof InboundEvent.Notice notice) {
      // Reports go from agents to the hub; one the other way tells a worker nothing.
      context
          .getLog()
          .debug(
              "Worker [{}/{}] ignores a {} from the hub",
              agentId,
              index,
              notice.frame().getClass().getSimpleName());
    }
    return Behaviors.same();
  }

  private void onRequest(Frame.RequestStart start, Source<ByteString, NotUsed> body) {
    if (current != null && current.responding) {
      // The hub sends a new request only after it received the last frame of the previous one,
      // so that response is out even if this worker has not yet seen its stream end.
      complete(current);
    } else if (current != null) {
      context
          .getLog()
          .warn(
              "Worker [{}/{}] got exchange {} while {} is in progress; abandoning {}",
              agentId,
              index,
              start.exchange(),
              current.number,
              current.number);
      abort(current, "superseded by exchange " + start.exchange(), Frame.Failure.Kind.CANCELLED);
    }
    Exchange exchange = new Exchange(start.exchange(), body != null);
    current = exchange;
    context
        .getLog()
        .debug(
            "Worker [{}/{}] exchange {}: {} {}",
            agentId,
            index,
            start.exchange(),
            start.method(),
            start.target());
    try {
      exchange.request = requests.build(start, body);
    } catch (UpstreamRequests.RefusedException e) {
      if (body != null) {
        transport.discard(start.exchange());
      }
      context
          .getLog()
          .warn(
              "Worker [{}/{}] exchange {}: refused to forward {} {}: {}",
              agentId,
              index,
              start.exchange(),
              start.method(),
              UpstreamRequests.printable(start.target()),
              e.getMessage());
      sendWhole(
          exchange, failure(exchange, "cannot forward the request: " + e.getMessage(), e.kind()));
      return;
    }
    send(exchange, 0);
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

  private Behavior<Command> onResponseTimedOut(ResponseTimedOut m) {
    Exchange exchange = m.exchange();
    if (exchange == current && !exchange.responding) {
      String reason =
          "upstream "
              + upstreamName
              + " sent no response head within "
              + settings.responseTimeout().toMillis()
              + " ms";
      context
          .getLog()
          .warn("Worker [{}/{}] exchange {}: {}", agentId, index, exchange.number, reason);
      abort(exchange, reason, Frame.Failure.Kind.TIMEOUT);
      current = null;
    }
    return Behaviors.same();
  }

  private Behavior<Command> onResponseBroke(ResponseBroke m) {
    context
        .getLog()
        .warn("Worker [{}/{}] exchange {}: {}", agentId, index, m.exchange(), m.reason());
    return Behaviors.same();
  }

  private Behavior<Command> onUpstreamResponse(WrappedUpstreamResponse m) {
    Exchange exchange = m.exchange();
    if (exchange != current || exchange.responding) {
      discard(m.response());
      return Behaviors.same();
    }
    timers.cancel(RESPONSE_TIMER);
    if (m.failure() != null) {
      return onUpstreamFailure(exchange, m);
    }
    if (upstreamDown) {
      upstreamDown = false;
      context
          .getLog()
          .info("Worker [{}/{}] upstream {} answers again", agentId, index, upstreamName);
    }
    context
        .getLog()
        .debug(
            "Worker [{}/{}] exchange {}: upstream answered {}",
            agentId,
            index,
            exchange.number,
            m.response().status().intValue());
    Frame whole = ResponseFrames.whole(exchange.number, m.response());
    if (whole != null) {
      sendWhole(exchange, whole);
      return Behaviors.same();
    }
    var self = context.getSelf();
    respond(
        exchange,
        ResponseFrames.of(
            exchange.number,
            m.response(),
            settings.inlineBodyLimit(),
            settings.responseBodyIdleTimeout(),
            exchange.killSwitch = KillSwitches.shared("exchange-" + exchange.number),
            () -> exchange.abortReason,
            failure -> self.tell(new ResponseBroke(exchange.number, failure.reason())),
            upstreamName));
    return Behaviors.same();
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
              "Worker [{}/{}] exchange {}: retrying on a new connection after: {}",
              agentId,
              index,
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
      context
          .getLog()
          .warn("Worker [{}/{}] exchange {}: {}", agentId, index, exchange.number, reason);
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
        context.getLog().warn("Worker [{}/{}] {}", agentId, index, reason);
      }
      answer = failure(exchange, reason, Frame.Failure.Kind.UNREACHABLE);
    }
    sendWhole(exchange, answer);
    return Behaviors.same();
  }

  private static Throwable unwrapped(Throwable failure) {
    Throwable t = failure;
    while (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /** Queues the exchange's frames behind those of earlier exchanges; tells self when they ended. */
  private void respond(Exchange exchange, Source<Frame, NotUsed> frames) {
    exchange.responding = true;
    var self = context.getSelf();
    boolean sent =
        transport.send(
            frames.watchTermination(
                (mat, done) -> {
                  done.whenComplete((ok, failure) -> self.tell(new ExchangeDone(exchange)));
                  return mat;
                }));
    if (!sent) {
      notSent(exchange);
    }
  }

  /** The whole answer in one frame: nothing is left to stream, so the exchange is over here. */
  private void sendWhole(Exchange exchange, Frame frame) {
    exchange.responding = true;
    if (!transport.send(frame)) {
      notSent(exchange);
    }
    complete(exchange);
  }

  private void notSent(Exchange exchange) {
    // The connection is closing: its Closed event follows and ends the exchange.
    context
        .getLog()
        .debug(
            "Worker [{}/{}] could not send exchange {}: connection closed",
            agentId,
            index,
            exchange.number);
  }

  private Behavior<Command> onExchangeDone(ExchangeDone m) {
    if (m.exchange() == current) {
      complete(current);
    }
    return Behaviors.same();
  }

  /** The exchange's frames are all out: this worker is free for the next request. */
  private void complete(Exchange exchange) {
    current = null;
    timers.cancel(RESPONSE_TIMER);
    if (exchange.streamedBody && !exchange.bodyEnded) {
      // The upstream answered before it read the whole request body: drop the rest as it arrives,
      // and never reuse a connection that still has half a request in it.
      transport.discard(exchange.number);
      upstream.abort("response ended before the request body");
    } else if (!upstream.responseEnded()) {
      // The response was cut (body timeout, malformed chunk): its framing is in doubt.
      upstream.abort("the response did not end cleanly");
    }
    context.getLog().debug("Worker [{}/{}] exchange {} done", agentId, index, exchange.number);
  }

  private void onCancel(int number) {
    if (current == null || current.number != number) {
      context
          .getLog()
          .debug("Worker [{}/{}] cancel of finished exchange {}", agentId, index, number);
      return;
    }
    context.getLog().debug("Worker [{}/{}] exchange {} cancelled", agentId, index, number);
    abort(current, "cancelled", Frame.Failure.Kind.CANCELLED);
    current = null;
  }

  /** Ends an exchange now: cuts the upstream call and answers Failure unless already answered. */
  private void abort(Exchange exchange, String reason, Frame.Failure.Kind kind) {
    timers.cancel(RESPONSE_TIMER);
    exchange.abortReason = reason;
    upstream.abort(reason);
    if (exchange.streamedBody && !exchange.bodyEnded) {
      transport.discard(exchange.number);
    }
    if (exchange.responding) {
      // Fails the response stream unless its terminal frame already passed: then Failure follows.
      stopResponse(exchange, reason);
    } else {
      sendWhole(exchange, failure(exchange, reason, kind));
    }
  }

  private static void stopResponse(Exchange exchange, String reason) {
    if (exchange.killSwitch != null) {
      exchange.killSwitch.abort(new UpstreamConnection.AbortedException(reason));
    }
  }

  private Behavior<Command> onLost(Throwable failure) {
    if (current != null) {
      timers.cancel(RESPONSE_TIMER);
      current.abortReason = "hub connection lost";
      upstream.abort("hub connection lost");
      stopResponse(current, "hub connection lost");
      current = null;
    }
    if (Duration.ofNanos(System.nanoTime() - connectedAt).compareTo(stableAfter()) >= 0) {
      backoff.reset();
    }
    String reason = failure == null ? "closed by the hub" : ResponseFrames.describe(failure);
    return problem("lost the hub connection: " + reason);
  }

  // ---- backing off ----

  private Behavior<Command> backingOff(Duration delay) {
    closeTransport();
    context
        .getLog()
        .debug("Worker [{}/{}] reconnecting in {} ms", agentId, index, delay.toMillis());
    timers.startSingleTimer(Reconnect.INSTANCE, delay);
    return withFallbacks(
        Behaviors.receive(Command.class).onMessageEquals(Reconnect.INSTANCE, this::connecting));
  }

  /**
   * Logs a failure once per change of reason (not every retry), moves on to the next hub node when
   * there are several, then backs off.
   */
  private Behavior<Command> problem(String description) {
    return problem(description, backoff.next());
  }

  private Behavior<Command> problem(String description, Duration retryIn) {
    if (!description.equals(lastProblem)) {
      context.getLog().warn("Worker [{}/{}] {}", agentId, index, description);
      lastProblem = description;
    } else {
      context.getLog().debug("Worker [{}/{}] {}", agentId, index, description);
    }
    hubIndex = (hubIndex + 1) % settings.hubs().size();
    return backingOff(retryIn);
  }

  // ---- every state ----

  /**
   * Ends a state's handlers with those every state shares: stale results of earlier exchanges and
   * sessions, and stopping. The state's own handlers come first and win.
   */
  private Behavior<Command> withFallbacks(BehaviorBuilder<Command> state) {
    return state
        .onMessage(WrappedUpstreamResponse.class, this::onStaleUpstreamResponse)
        .onMessage(ExchangeDone.class, m -> Behaviors.same())
        .onMessage(ResponseTimedOut.class, m -> Behaviors.same())
        .onMessage(ResponseBroke.class, this::onResponseBroke)
        .onMessage(WrappedUpgrade.class, this::onStaleUpgrade)
        .onMessage(WrappedRefusal.class, m -> Behaviors.same())
        .onMessage(WrappedInbound.class, this::onStaleInbound)
        .onMessageEquals(Reconnect.INSTANCE, Behaviors::same)
        // Kept for the next connection; a report out of an earlier session changes nothing.
        .onMessage(NewReport.class, m -> keepReport(m.report()))
        .onMessage(ReportOut.class, m -> Behaviors.same())
        .onSignal(PostStop.class, signal -> onStop())
        .onSignal(PreRestart.class, signal -> onStop())
        .build();
  }

  private Behavior<Command> keepReport(AgentReport latest) {
    report = latest;
    return Behaviors.same();
  }

  private Behavior<Command> onStaleUpstreamResponse(WrappedUpstreamResponse m) {
    discard(m.response());
    return Behaviors.same();
  }

  private Behavior<Command> onStaleUpgrade(WrappedUpgrade m) {
    if (m.socket() != null) {
      m.socket().abort();
    }
    return Behaviors.same();
  }

  private Behavior<Command> onStaleInbound(WrappedInbound m) {
    if (m.event() instanceof InboundEvent.Started started && started.body() != null) {
      started.body().runWith(org.apache.pekko.stream.javadsl.Sink.ignore(), materializer);
    }
    return Behaviors.same();
  }

  private Behavior<Command> onStop() {
    upstream.abort("agent stopping");
    closeTransport();
    return Behaviors.same();
  }

  private void closeTransport() {
    if (transport != null) {
      transport.close();
    }
  }

  private Duration tokenRetry() {
    return TOKEN_RETRY.compareTo(settings.maxBackoff()) > 0 ? TOKEN_RETRY : settings.maxBackoff();
  }

  private Duration stableAfter() {
    return STABLE_AFTER.compareTo(settings.maxBackoff()) < 0 ? STABLE_AFTER : settings.maxBackoff();
  }

  private void discard(HttpResponse response) {
    if (response != null) {
      response.discardEntityBytes(materializer);
    }
  }

  private static Frame.Failure failure(Exchange exchange, String reason, Frame.Failure.Kind kind) {
    return new Frame.Failure(exchange.number, reason, kind, exchange.resent);
  }

  /**
   * The first line of what the hub says to a plain GET, when it refuses that with {@code status}
   * too.
   */
  private java.util.concurrent.CompletionStage<String> refusalReason(int status) {
    // The same headers as the upgrade: the hub may refuse for any of them.
    HttpRequest probe = HttpRequest.GET(hub() + SlimeHeaders.CONNECT_PATH);
    for (Map.Entry<String, String> header : handshake.entrySet()) {
      probe = probe.addHeader(RawHeader.create(header.getKey(), header.getValue()));
    }
    return Http.get(context.getSystem())
        .singleRequest(probe)
        .thenCompose(
            r -> {
              if (r.status().intValue() != status) {
                discard(r);
                return java.util.concurrent.CompletableFuture.completedFuture("");
              }
              return r.entity()
                  .toStrict(2000, materializer)
                  .thenApply(strict -> firstLine(strict.getData().utf8String().strip()));
            });
  }

  private static String firstLine(String text) {
    int end = text.indexOf('\n');
    String line = end < 0 ? text : text.substring(0, end);
    // The hub's own answers start "slime: ", which says nothing here.
    line = line.startsWith("slime: ") ? line.substring("slime: ".length()) : line;
    return line.length() > 200 ? line.substring(0, 200) + "..." : line;
  }
}
