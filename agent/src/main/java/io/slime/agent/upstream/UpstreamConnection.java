package io.slime.agent.upstream;

import io.slime.shared.net.ServiceAddress;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.ClassicActorSystemProvider;
import org.apache.pekko.http.javadsl.ConnectHttp;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.OutgoingConnection;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.Connection;
import org.apache.pekko.http.javadsl.settings.ClientConnectionSettings;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * One worker's single HTTP/1.1 connection to its upstream, kept alive across the worker's requests
 * and opened again lazily once it closed. Owning exactly one connection (rather than sharing a
 * pool) makes the parallelism bound exact and lets {@link #abort} cut the one call in flight, so
 * the upstream sees its client disconnect (a GPU job can stop).
 *
 * <pre>
 *  send ─▶ Source.queue(1) ─▶ KillSwitch ─▶ outgoingConnection ─▶ Sink.foreach ─▶ response
 * </pre>
 *
 * Responses complete plain {@link CompletableFuture}s from inside the stream: the futures Pekko's
 * javadsl returns run every callback on a new thread where the common pool has one thread (two
 * cores), which cost more than the rest of the request.
 *
 * Not thread-safe: one actor owns it and calls it from its own thread only.
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

  /** The connection closed before the response head arrived. */
  public static final class ClosedException extends RuntimeException {
    public ClosedException(String reason) {
      super(reason, null, false, false);
    }
  }

  private final ServiceAddress address;
  private final ClientConnectionSettings settings;
  private final ClassicActorSystemProvider system;
  private final Materializer materializer;
  private Live live;

  public UpstreamConnection(
      ServiceAddress address,
      ClientConnectionSettings settings,
      ClassicActorSystemProvider system) {
    this.address = address;
    this.settings = settings;
    this.system = system;
    this.materializer = Materializer.matFromSystem(system);
  }

  /** One materialized connection. */
  private static final class Live {
    final Materializer materializer;
    BoundedSourceQueue<HttpRequest> requests;
    UniqueKillSwitch killSwitch;
    int served;
    // Written by the owner before it sends; completed from the connection's stream.
    private CompletableFuture<HttpResponse> pending;
    private volatile boolean closed;
    // Set when the response arrives, read by the owner after it has seen that response.
    volatile boolean closeAfterResponse;

    Live(Materializer materializer) {
      this.materializer = materializer;
    }

    synchronized CompletableFuture<HttpResponse> expect() {
      pending = new CompletableFuture<>();
      if (closed) {
        pending.completeExceptionally(new ClosedException("connection closed before the response"));
      }
      return pending;
    }

    void onResponse(HttpResponse response) {
      if (wantsClose(response)) {
        closeAfterResponse = true;
      }
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
        waiting.completeExceptionally(
            failure != null ? failure : new ClosedException("connection closed before the response"));
      }
    }

    boolean usable() {
      return !closeAfterResponse && !closed;
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
    QueueOfferResult offered = conn.requests.offer(request);
    if (offered != QueueOfferResult.enqueued()) {
      live = null;
      conn.killSwitch.shutdown();
      return new Sent(
          CompletableFuture.failedFuture(new ClosedException("connection closed")), reused, true);
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

  private Live open() {
    ConnectHttp target =
        address.secure()
            ? ConnectHttp.toHostHttps(address.host(), address.port())
            : ConnectHttp.toHost(address.host(), address.port());
    Flow<HttpRequest, HttpResponse, CompletionStage<OutgoingConnection>> connection =
        Http.get(system)
            .outgoingConnection(target, Optional.empty(), settings, system.classicSystem().log());
    Live conn = new Live(materializer);
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

  private static boolean wantsClose(HttpResponse response) {
    return response
        .getHeader(Connection.class)
        .map(
            c -> {
              for (String token : c.getTokens()) {
                if (token.equalsIgnoreCase("close")) {
                  return true;
                }
              }
              return false;
            })
        .orElse(false);
  }
}
