package io.slime.agent.upstream;

import io.slime.shared.net.ServiceAddress;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
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
import org.apache.pekko.stream.javadsl.SinkQueueWithCancel;
import org.apache.pekko.stream.javadsl.Source;

/**
 * One worker's single HTTP/1.1 connection to its upstream, kept alive across the worker's requests
 * and opened again lazily once it closed. Owning exactly one connection (rather than sharing a
 * pool) makes the parallelism bound exact and lets {@link #abort} cut the one call in flight, so
 * the upstream sees its client disconnect (a GPU job can stop).
 *
 * <pre>
 *  send ─▶ Source.queue(1) ─▶ KillSwitch ─▶ outgoingConnection ─▶ Sink.queue ─▶ pull
 * </pre>
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
    final BoundedSourceQueue<HttpRequest> requests;
    final UniqueKillSwitch killSwitch;
    final SinkQueueWithCancel<HttpResponse> responses;
    final CompletionStage<Done> closed;
    int served;
    // Set by the response future's callback, read by the owner after it has seen that response.
    volatile boolean closeAfterResponse;

    Live(
        BoundedSourceQueue<HttpRequest> requests,
        UniqueKillSwitch killSwitch,
        SinkQueueWithCancel<HttpResponse> responses,
        CompletionStage<Done> closed) {
      this.requests = requests;
      this.killSwitch = killSwitch;
      this.responses = responses;
      this.closed = closed;
    }

    boolean usable() {
      return !closeAfterResponse && !closed.toCompletableFuture().isDone();
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
    QueueOfferResult offered = conn.requests.offer(request);
    if (offered != QueueOfferResult.enqueued()) {
      live = null;
      conn.killSwitch.shutdown();
      return new Sent(
          CompletableFuture.failedFuture(new ClosedException("connection closed")), reused, true);
    }
    CompletionStage<HttpResponse> response =
        conn.responses
            .pull()
            .thenApply(
                next -> {
                  HttpResponse r =
                      next.orElseThrow(
                          () -> new ClosedException("connection closed before the response"));
                  if (wantsClose(r)) {
                    conn.closeAfterResponse = true;
                  }
                  return r;
                });
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
      conn.responses.cancel();
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
    var materialized =
        Source.<HttpRequest>queue(1)
            .viaMat(KillSwitches.single(), Keep.both())
            .via(connection)
            .watchTermination(Keep.both())
            .toMat(Sink.queue(1), Keep.both())
            .run(materializer);
    Pair<BoundedSourceQueue<HttpRequest>, UniqueKillSwitch> ends = materialized.first().first();
    return new Live(
        ends.first(), ends.second(), materialized.second(), materialized.first().second());
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
