package io.slime.agent.upstream;

import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.BidiShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.TLSProtocol;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.util.ByteString;

/**
 * Sits between Pekko's HTTP client layer and TLS (or its placebo) on one upstream connection and
 * passes on only the bytes that answer the request in flight, framed by {@link ResponseFraming}.
 *
 * <pre>
 *  HTTP layer ── request ──▶ its first bytes start the wait for a response ──▶ TLS/TCP
 *  HTTP layer ◀── owed ───── frame: stray → pass what is owed, then close ◀── TLS/TCP
 *                                   malformed → fail the connection
 * </pre>
 *
 * It reads from the network even when the HTTP layer wants nothing (Pekko reads only while it waits
 * for a response), holding at most one piece, so bytes sent while no request is in flight close the
 * connection at once rather than waiting for the next request.
 */
final class ResponseGuard
    extends GraphStage<
        BidiShape<
            TLSProtocol.SslTlsOutbound,
            TLSProtocol.SslTlsOutbound,
            TLSProtocol.SslTlsInbound,
            TLSProtocol.SslTlsInbound>> {

  /**
   * What the connection's owner and the stage share. The owner names each request's method before
   * sending it; the stage says whether a response is still due and whether the connection may carry
   * another request.
   */
  static final class Watch {
    private volatile String next;
    private volatile boolean awaiting;
    private volatile boolean reusable = true;
    private volatile boolean started;
    private volatile String malformed;

    /** A request with this method is about to go out. */
    void sending(String method) {
      next = method;
    }

    /** Whether a request was sent (or is being sent) whose response has not ended. */
    boolean busy() {
      // next before awaiting: the stage sets awaiting before it clears next.
      return next != null || awaiting;
    }

    boolean reusable() {
      return reusable;
    }

    /** Whether any byte of the response to the request in flight arrived. */
    boolean started() {
      return started;
    }

    /** Why the response broke the framing, or null. */
    String malformed() {
      return malformed;
    }
  }

  private final Inlet<TLSProtocol.SslTlsOutbound> requestIn =
      Inlet.create("ResponseGuard.requestIn");
  private final Outlet<TLSProtocol.SslTlsOutbound> requestOut =
      Outlet.create("ResponseGuard.requestOut");
  private final Inlet<TLSProtocol.SslTlsInbound> responseIn =
      Inlet.create("ResponseGuard.responseIn");
  private final Outlet<TLSProtocol.SslTlsInbound> responseOut =
      Outlet.create("ResponseGuard.responseOut");
  private final BidiShape<
          TLSProtocol.SslTlsOutbound,
          TLSProtocol.SslTlsOutbound,
          TLSProtocol.SslTlsInbound,
          TLSProtocol.SslTlsInbound>
      shape = new BidiShape<>(requestIn, requestOut, responseIn, responseOut);

  private final Watch watch;
  private final LoggingAdapter log;
  private final String upstream;

  ResponseGuard(Watch watch, LoggingAdapter log, String upstream) {
    this.watch = watch;
    this.log = log;
    this.upstream = upstream;
  }

  @Override
  public BidiShape<
          TLSProtocol.SslTlsOutbound,
          TLSProtocol.SslTlsOutbound,
          TLSProtocol.SslTlsInbound,
          TLSProtocol.SslTlsInbound>
      shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes attributes) {
    return new GraphStageLogic(shape) {
      private final ResponseFraming framing = new ResponseFraming();
      private TLSProtocol.SslTlsInbound held;

      {
        setHandler(
            requestIn,
            new AbstractInHandler() {
              @Override
              public void onPush() {
                TLSProtocol.SslTlsOutbound element = grab(requestIn);
                String method = watch.next;
                if (method != null && element instanceof TLSProtocol.SendBytes) {
                  framing.expect(method);
                  watch.started = false;
                  watch.awaiting = true;
                  watch.next = null;
                }
                push(requestOut, element);
              }

              @Override
              public void onUpstreamFinish() {
                complete(requestOut);
              }
            });
        setHandler(
            requestOut,
            new AbstractOutHandler() {
              @Override
              public void onPull() {
                pull(requestIn);
              }

              @Override
              public void onDownstreamFinish(Throwable cause) {
                cancel(requestIn, cause);
              }
            });
        setHandler(
            responseIn,
            new AbstractInHandler() {
              @Override
              public void onPush() {
                onResponseBytes(grab(responseIn));
              }

              @Override
              public void onUpstreamFinish() {
                if (held == null) {
                  complete(responseOut);
                }
              }
            });
        setHandler(
            responseOut,
            new AbstractOutHandler() {
              @Override
              public void onPull() {
                if (held != null) {
                  push(responseOut, held);
                  held = null;
                  if (isClosed(responseIn)) {
                    complete(responseOut);
                  } else {
                    pull(responseIn);
                  }
                }
              }

              @Override
              public void onDownstreamFinish(Throwable cause) {
                cancel(responseIn, cause);
              }
            });
      }

      @Override
      public void preStart() {
        pull(responseIn);
      }

      private void onResponseBytes(TLSProtocol.SslTlsInbound element) {
        if (!(element instanceof TLSProtocol.SessionBytes piece)) {
          pass(element);
          return;
        }
        ByteString bytes = piece.bytes();
        int own;
        try {
          own = framing.feed(bytes);
        } catch (MalformedResponseException e) {
          watch.malformed = e.getMessage();
          watch.reusable = false;
          // The worker logs it, with the exchange it failed.
          log.debug("Upstream {} sent a {}; closing the connection", upstream, e.getMessage());
          failStage(e);
          return;
        }
        watch.started = framing.started();
        watch.reusable = framing.reusable();
        watch.awaiting = framing.awaiting();
        if (own == bytes.size()) {
          pass(element);
          return;
        }
        watch.reusable = false;
        log.warning(
            "Upstream {} sent {} bytes that no request asked for; closing the connection",
            upstream,
            bytes.size() - own);
        if (own == 0) {
          completeStage();
        } else {
          // What the request in flight is owed goes first; then the connection closes.
          emit(
              responseOut,
              new TLSProtocol.SessionBytes(piece.session(), bytes.take(own)),
              this::completeStage);
        }
      }

      /** Pushes now when the HTTP layer asked, else holds the piece and stops reading. */
      private void pass(TLSProtocol.SslTlsInbound element) {
        if (isAvailable(responseOut)) {
          push(responseOut, element);
          pull(responseIn);
        } else {
          held = element;
        }
      }
    };
  }
}
