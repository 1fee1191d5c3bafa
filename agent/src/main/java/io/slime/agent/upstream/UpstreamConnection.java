package io.slime.agent.upstream;

import io.slime.shared.net.ServiceAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.ClassicActorSystemProvider;
import org.apache.pekko.event.Logging;
import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.Host;
import org.apache.pekko.http.javadsl.settings.ClientConnectionSettings;
import org.apache.pekko.http.scaladsl.model.ExceptionWithErrorInfo;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.TLSClosing;
import org.apache.pekko.stream.TLSProtocol;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.BidiFlow;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.TLS;
import org.apache.pekko.stream.javadsl.TLSPlacebo;
import org.apache.pekko.util.ByteString;

/**
 * One worker's single HTTP/1.1 connection to its upstream, kept alive across the worker's requests
 * and opened again lazily once it closed. Owning exactly one connection (rather than sharing a
 * pool) makes the parallelism bound exact and lets {@link #abort} cut the one call in flight, so
 * the upstream sees its client disconnect (a GPU job can stop).
 *
 * <pre>
 *  send ─▶ Source.queue(1) ─▶ KillSwitch ─▶ HTTP client layer ⇄ ResponseGuard ⇄ TLS ⇄ TCP
 *                                                  └─▶ Sink.foreach ─▶ response
 * </pre>
 *
 * The connection is Pekko's {@code outgoingConnection} taken apart to put a {@link ResponseGuard}
 * between the HTTP layer and TLS: Pekko gives a kept-alive connection's responses to its requests
 * in order, so bytes the upstream sends unasked would answer the next request. The guard closes the
 * connection instead, and a connection whose last response did not end cleanly is never used again.
 *
 * <p>Responses complete plain {@link CompletableFuture}s from inside the stream: the futures
 * Pekko's javadsl returns run every callback on a new thread where the common pool has one thread
 * (two cores), which cost more than the rest of the request.
 *
 * <p>Not thread-safe: one actor owns it and calls it from its own thread only.
 */
public final class UpstreamConnection {

  /** A request handed to the connection: its response, and whether the connection was reused. */
  public record Sent(CompletionStage<HttpResponse> response, boolean reused, boolean neverSent) {}

  /** Why a connection was torn down; upstream calls on it fail with this. */
  public static final class AbortedException extends RuntimeException {
    public AbortedException(String reason) {
      super(reason, null, false, false);
    }
  }

  /** A request got no response head; {@link #why} says how far the upstream got. */
  public static final class FailedException extends RuntimeException {
    /** How a request failed before its response head. */
    public enum Why {
      /** The connection could not be made or failed before a byte of a response arrived. */
      NO_RESPONSE,
      /** The upstream closed the connection without sending a byte of a response. */
      CLOSED,
      /** Part of a response head arrived, then the connection broke. */
      BROKE_OFF,
      /** The response broke HTTP's framing or syntax. */
      MALFORMED
    }

    private final Why why;

    FailedException(Why why, String message) {
      super(message, null, false, false);
      this.why = why;
    }

    public Why why() {
      return why;
    }
  }

  private final ServiceAddress address;
  private final ClientConnectionSettings settings;
  private final ClassicActorSystemProvider system;
  private final SSLContext tls;
  private final Materializer materializer;
  private final LoggingAdapter log;
  private Live live;

  /** A connection that verifies {@code https://} upstreams with the JVM's default trust. */
  public UpstreamConnection(
      ServiceAddress address,
      ClientConnectionSettings settings,
      ClassicActorSystemProvider system) {
    this(address, settings, defaultTls(), system);
  }

  /** {@code tls} verifies {@code https://} upstreams. */
  public UpstreamConnection(
      ServiceAddress address,
      ClientConnectionSettings settings,
      SSLContext tls,
      ClassicActorSystemProvider system) {
    this.address = address;
    this.settings = settings;
    this.system = system;
    this.tls = tls;
    this.materializer = Materializer.matFromSystem(system);
    this.log = Logging.getLogger(system.classicSystem(), UpstreamConnection.class);
  }

  /** One materialized connection. */
  private static final class Live {
    final Materializer materializer;
    final ResponseGuard.Watch watch = new ResponseGuard.Watch();
    BoundedSourceQueue<HttpRequest> requests;
    UniqueKillSwitch killSwitch;
    int served;
    // Written by the owner before it sends; completed from the connection's stream.
    private CompletableFuture<HttpResponse> pending;
    private volatile boolean closed;

    Live(Materializer materializer) {
      this.materializer = materializer;
    }

    synchronized CompletableFuture<HttpResponse> expect() {
      pending = new CompletableFuture<>();
      if (closed) {
        pending.completeExceptionally(
            new FailedException(
                FailedException.Why.CLOSED, "connection closed before the response"));
      }
      return pending;
    }

    void onResponse(HttpResponse response) {
      CompletableFuture<HttpResponse> waiting;
      synchronized (this) {
        waiting = pending;
        pending = null;
      }
      if (waiting != null) {
        waiting.complete(response);
      } else {
        response.discardEntityBytes(materializer); // nobody waits for it any more
      }
    }

    void onClosed(Throwable failure) {
      CompletableFuture<HttpResponse> waiting;
      synchronized (this) {
        closed = true;
        waiting = pending;
        pending = null;
      }
      if (waiting != null) {
        waiting.completeExceptionally(classified(failure));
      }
    }

    /** Why the request in flight got no response head, from what the guard saw of it. */
    private Throwable classified(Throwable failure) {
      if (failure instanceof AbortedException) {
        return failure;
      }
      if (watch.malformed() != null) {
        return new FailedException(FailedException.Why.MALFORMED, watch.malformed());
      }
      if (failure instanceof ExceptionWithErrorInfo) {
        // Pekko's own parser refused it (something the guard let through).
        return new FailedException(
            FailedException.Why.MALFORMED,
            "malformed response: " + ResponseFrames.describe(failure));
      }
      // Pekko's (internal) exception for a connection that closed with a request outstanding.
      boolean closed =
          failure == null
              || failure.getClass().getSimpleName().equals("UnexpectedConnectionClosureException");
      String why =
          closed ? "connection closed before the response" : ResponseFrames.describe(failure);
      FailedException.Why unanswered =
          closed ? FailedException.Why.CLOSED : FailedException.Why.NO_RESPONSE;
      return new FailedException(watch.started() ? FailedException.Why.BROKE_OFF : unanswered, why);
    }

    boolean usable() {
      return !closed && watch.reusable() && !watch.busy();
    }
  }

  /**
   * Sends a request on the open connection, or on a new one when there is none. Call again only
   * after the previous response's entity has been consumed or the connection aborted.
   */
  public Sent send(HttpRequest request) {
    if (live == null || !live.usable()) {
      if (live != null) {
        live.killSwitch.shutdown();
      }
      live = open();
    }
    Live conn = live;
    boolean reused = conn.served > 0;
    conn.served++;
    CompletableFuture<HttpResponse> response = conn.expect();
    conn.watch.sending(request.method().value());
    QueueOfferResult offered = conn.requests.offer(request);
    if (offered != QueueOfferResult.enqueued()) {
      live = null;
      conn.killSwitch.shutdown();
      return new Sent(
          CompletableFuture.failedFuture(
              new FailedException(FailedException.Why.CLOSED, "connection closed")),
          reused,
          true);
    }
    return new Sent(response, reused, false);
  }

  /**
   * Tears the connection down at once, whatever it is doing: the request stream fails, so the TCP
   * connection is closed and a response in progress is abandoned. The next send opens a new one.
   */
  public void abort(String reason) {
    if (live != null) {
      Live conn = live;
      live = null;
      conn.killSwitch.abort(new AbortedException(reason));
    }
  }

  /** Whether a connection is open now (for tests and diagnostics). */
  public boolean isOpen() {
    return live != null && live.usable();
  }

  /**
   * Whether the last request's response ended cleanly (or there is no connection). When not, the
   * connection is in doubt: its owner aborts it rather than leave it to the next request.
   */
  public boolean responseEnded() {
    return live == null || !live.watch.busy();
  }

  private Live open() {
    Live conn = new Live(materializer);
    boolean defaultPort = address.port() == (address.secure() ? 443 : 80);
    Host host =
        defaultPort ? Host.create(address.host()) : Host.create(address.host(), address.port());
    Flow<HttpRequest, HttpResponse, NotUsed> connection =
        Http.get(system)
            .clientLayer(host, settings, log)
            .atop(BidiFlow.fromGraph(new ResponseGuard(conn.watch, log, address.toString())))
            .atop(tls())
            .join(
                settings
                    .getTransport()
                    .connectTo(address.host(), address.port(), settings, system.classicSystem())
                    .mapMaterializedValue(m -> NotUsed.getInstance()))
            // A malformed answer makes Pekko's parser throw, which its stream would log as an
            // ERROR with a stack trace; the worker logs one line with the reason instead.
            .addAttributes(
                Attributes.createLogLevels(
                    Attributes.logLevelDebug(),
                    Attributes.logLevelDebug(),
                    Attributes.logLevelOff()));
    Pair<BoundedSourceQueue<HttpRequest>, UniqueKillSwitch> ends =
        Source.<HttpRequest>queue(1)
            .viaMat(KillSwitches.single(), Keep.both())
            .via(connection)
            .watchTermination(
                (mat, done) -> {
                  done.whenComplete((ok, failure) -> conn.onClosed(failure));
                  return mat;
                })
            .to(Sink.foreach(conn::onResponse))
            .run(materializer);
    conn.requests = ends.first();
    conn.killSwitch = ends.second();
    return conn;
  }

  /** TLS for https upstreams, as Pekko's own client sets it up; a placebo for http. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private BidiFlow<
          TLSProtocol.SslTlsOutbound, ByteString, ByteString, TLSProtocol.SslTlsInbound, NotUsed>
      tls() {
    if (address.secure()) {
      return TLS.create(this::engine, TLSClosing.eagerClose());
    }
    // The placebo emits SessionBytes only, a kind of SslTlsInbound: widening it is safe.
    return (BidiFlow) TLSPlacebo.getInstance();
  }

  private static SSLContext defaultTls() {
    try {
      return SSLContext.getDefault();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("no default TLS context", e);
    }
  }

  /** A client engine that checks the certificate names the upstream's host (and sends SNI). */
  private SSLEngine engine() {
    SSLEngine engine = tls.createSSLEngine(address.host(), address.port());
    engine.setUseClientMode(true);
    SSLParameters parameters = engine.getSSLParameters();
    parameters.setEndpointIdentificationAlgorithm("HTTPS");
    engine.setSSLParameters(parameters);
    return engine;
  }
}
