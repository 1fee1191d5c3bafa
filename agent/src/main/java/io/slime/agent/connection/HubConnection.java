package io.slime.agent.connection;

import io.slime.agent.settings.AgentSettings;
import io.slime.agent.upstream.HubFrames;
import io.slime.agent.upstream.ResponseFrames;
import io.slime.agent.upstream.UpstreamConnection;
import io.slime.agent.upstream.UpstreamWorker;
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
import org.apache.pekko.actor.typed.ActorRef;
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
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;

/**
 * One worker of an agent: a WebSocket it opens to the hub, and the socket's lifecycle. Each request
 * that comes in on it goes to the worker's {@link UpstreamWorker}, which carries it to the upstream
 * on its own {@link UpstreamConnection} and its answer back over this socket, one at a time.
 *
 * <p>States: {@link #connecting()} (upgrade in flight; the socket is read only once it is in) →
 * {@link #connected()} (hands exchanges to the upstream worker) → on loss or refusal {@link
 * #backingOff(Duration)} (exponential backoff with jitter; a minute when the hub refuses the token)
 * → {@link #connecting()} again, forever.
 *
 * <p>Talks to: the hub through a {@link FrameTransport} (inbound events arrive as {@code
 * WrappedInbound}); its child {@link UpstreamWorker}, to which it passes each request, body end and
 * cancel of the current session, and the session's loss, in the order the socket gave them; the
 * upstream worker queues the answer's frames on the same transport. Its agent's monitor tells it
 * each new {@link NewReport}; it passes the latest on to the hub as a {@link Frame.Report} right
 * after each upgrade and whenever a new one arrives while connected. It keeps serving while its
 * upstream is unhealthy: the hub stops sending, and what was on its way is served. Started by the
 * agents' guardian, one per worker; it stops only with the actor system, and starts over (under the
 * guardian's supervision) when its upstream worker fails.
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

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final AgentSettings settings;
  private final Clients clients;
  private final String agentId;
  private final int index;
  private final String upstreamName;
  private final ActorRef<UpstreamWorker.Command> upstream;
  private final Materializer materializer;
  private final Backoff backoff;
  private final Map<String, String> handshake;

  private int session;
  private int hubIndex;
  private FrameTransport transport;
  private HubFrames hubFrames;
  private JdkHubSocket socket;
  private long connectedAt;
  private String lastProblem;
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
    this.upstreamName = upstreamAddress.toString();
    this.upstream =
        context.spawn(
            UpstreamWorker.create(
                settings, clients.upstream(), upstreamAddress, agentId + "/" + index),
            "upstream");
    // A bug in an exchange stops the upstream worker; the worker as a whole then starts over.
    context.watch(upstream);
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
    hubFrames = HubFrames.of(transport);
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
        upstream.tell(new UpstreamWorker.Serve(start, started.body(), hubFrames));
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
      upstream.tell(new UpstreamWorker.BodyEnded(ended.exchange()));
    } else if (event instanceof InboundEvent.Signal signal) {
      upstream.tell(new UpstreamWorker.Cancel(signal.frame().exchange()));
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

  private Behavior<Command> onLost(Throwable failure) {
    upstream.tell(UpstreamWorker.HubLost.INSTANCE);
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
