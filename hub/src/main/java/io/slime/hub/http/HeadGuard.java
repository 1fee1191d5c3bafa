package io.slime.hub.http;

import io.slime.hub.model.ProxyError;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.BidiShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.GraphStageWithMaterializedValue;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * The bytes of one client connection, checked before Pekko's HTTP server layer reads them: each
 * request's head is held until the {@link RequestFramer} has read all of it, then handed on; body
 * bytes pass through untouched, as they came. Materializes to when the connection has ended.
 *
 * <pre>
 *   Pekko HTTP  --answers-->  [fromServer -> toClient]  --> TCP
 *   Pekko HTTP  <--requests-- [toServer <- fromClient]  <-- TCP
 * </pre>
 *
 * <p>A head that breaks the rules, or that does not arrive within {@code headTimeout}, never
 * reaches Pekko: the requests before it are handed on, then a stand-in request that the handler
 * answers with the refusal (through {@link ClientConnection#refuse}), and nothing after it. Pekko
 * answers in order, so the refusal follows the answers to the requests before it, and it closes the
 * connection. A body that breaks the rules is cut where it does; its request is answered with the
 * refusal, if it was not answered yet, and the connection closes. Bytes after a refusal are read
 * and dropped until then.
 *
 * <p>Demand: while a head is incomplete the guard reads on whether Pekko asks or not (a head is
 * bounded, and its timeout must not depend on Pekko); otherwise it reads only what Pekko asks for.
 * After a request that asks to switch protocols, it reads nothing until the handler has answered
 * it: once switched (an agent's WebSocket), everything passes through unread.
 */
final class HeadGuard
    extends GraphStageWithMaterializedValue<
        BidiShape<ByteString, ByteString, ByteString, ByteString>, CompletionStage<Done>> {
  private static final Logger log = LoggerFactory.getLogger(HeadGuard.class);

  /** What Pekko reads in place of a refused head: the handler answers it with the refusal. */
  static final ByteString STAND_IN =
      ByteString.fromString("GET /_slime/refused HTTP/1.1\r\nHost: slime\r\n\r\n");

  private static final String HEAD_TIMER = "head";

  private final Inlet<ByteString> fromServer = Inlet.create("HeadGuard.fromServer");
  private final Outlet<ByteString> toClient = Outlet.create("HeadGuard.toClient");
  private final Inlet<ByteString> fromClient = Inlet.create("HeadGuard.fromClient");
  private final Outlet<ByteString> toServer = Outlet.create("HeadGuard.toServer");
  private final BidiShape<ByteString, ByteString, ByteString, ByteString> shape =
      BidiShape.of(fromServer, toClient, fromClient, toServer);

  private final RequestFramer framer;
  private final Duration headTimeout;
  private final ClientConnection client;

  HeadGuard(RequestFramer framer, Duration headTimeout, ClientConnection client) {
    this.framer = framer;
    this.headTimeout = headTimeout;
    this.client = client;
  }

  @Override
  public BidiShape<ByteString, ByteString, ByteString, ByteString> shape() {
    return shape;
  }

  @Override
  public Tuple2<GraphStageLogic, CompletionStage<Done>> createLogicAndMaterializedValue(
      Attributes attributes) {
    CompletableFuture<Done> ended = new CompletableFuture<>();
    return Pair.<GraphStageLogic, CompletionStage<Done>>create(new Logic(ended), ended).toScala();
  }

  private final class Logic extends TimerGraphStageLogic {
    private final CompletableFuture<Done> ended;

    /** Bytes read from the client and not handed to Pekko yet. */
    private ByteString pending = ByteString.emptyByteString();

    /** How many of {@link #pending} the framer has read. */
    private int scanned;

    /** Where in {@link #pending} the unfinished head starts, or -1. */
    private int headStart = -1;

    /** Heads handed on: the number of the last request Pekko will read. */
    private int heads;

    private boolean awaitingSwitch;
    private boolean switched;

    /** Nothing more is read: once {@link #pending} is handed on, Pekko's input ends. */
    private boolean closing;

    private boolean stopAsked;

    /** Hears from the handler whether a request that asked to switch protocols did. */
    private AsyncCallback<Boolean> decided;

    Logic(CompletableFuture<Done> ended) {
      super(shape);
      this.ended = ended;
      setHandler(
          fromClient,
          new AbstractInHandler() {
            @Override
            public void onPush() {
              ByteString bytes = grab(fromClient);
              if (!closing) {
                pending = pending.isEmpty() ? bytes : pending.concat(bytes);
              }
              drive();
            }

            @Override
            public void onUpstreamFinish() {
              // The client is gone: a head it did not finish is of no use to anyone.
              dropUnfinishedHead();
              closing = true;
              drive();
            }
          });
      setHandler(
          toServer,
          new AbstractOutHandler() {
            @Override
            public void onPull() {
              drive();
            }

            @Override
            public void onDownstreamFinish(Throwable cause) {
              // Pekko reads no more; it may still be writing its last answer.
              cancel(fromClient, cause);
            }
          });
      setHandler(
          fromServer,
          new AbstractInHandler() {
            @Override
            public void onPush() {
              push(toClient, grab(fromServer));
            }

            @Override
            public void onUpstreamFinish() {
              complete(toClient);
            }
          });
      setHandler(
          toClient,
          new AbstractOutHandler() {
            @Override
            public void onPull() {
              pull(fromServer);
            }
          });
    }

    @Override
    public void preStart() {
      decided = createAsyncCallback(this::onSwitchDecided);
      AsyncCallback<Done> stop = createAsyncCallback(done -> onStop());
      client.onStop(() -> stop.invoke(Done.getInstance()));
    }

    @Override
    public void postStop() {
      ended.complete(Done.getInstance());
    }

    @Override
    public void onTimer(Object key) {
      if (framer.inHead() && !closing && !switched) {
        refuseHead(
            ProxyError.REQUEST_TIMEOUT,
            "the request head did not arrive within " + headTimeout.toMillis() + " ms");
        drive();
      }
    }

    private void drive() {
      if (!switched) {
        scan();
      }
      handOn();
      if (closing && handable() == 0 && !isClosed(toServer)) {
        complete(toServer);
      }
      if (wantsBytes()) {
        pull(fromClient);
      }
    }

    private void scan() {
      while (!closing && !awaitingSwitch) {
        int at = framer.scan(pending, scanned);
        RequestFramer.Stop stop = framer.stop();
        if (stop == RequestFramer.Stop.REFUSED) {
          refuse(at, framer.refusal());
          return;
        }
        scanned = at;
        switch (stop) {
          case MORE -> {
            return;
          }
          case HEAD_START -> {
            headStart = at;
            scheduleOnce(HEAD_TIMER, headTimeout);
          }
          case HEAD_END -> {
            headStart = -1;
            heads++;
            cancelTimer(HEAD_TIMER);
          }
          case REQUEST_END -> onRequestEnd();
          default -> throw new IllegalStateException(stop.toString());
        }
      }
    }

    private void onRequestEnd() {
      if (framer.upgrade()) {
        awaitingSwitch = true;
        client.awaitSwitch(heads, switched -> decided.invoke(switched));
      } else if (stopAsked) {
        closing = true;
      }
    }

    private void onSwitchDecided(boolean switchedNow) {
      awaitingSwitch = false;
      switched = switchedNow;
      if (stopAsked && !switched) {
        closing = true;
      }
      drive();
    }

    /** Graceful termination: after the request being read, read no more. */
    private void onStop() {
      stopAsked = true;
      if (!switched && !awaitingSwitch && !framer.inBody()) {
        dropUnfinishedHead();
        closing = true;
      }
      drive();
    }

    /** How much of {@link #pending} may reach Pekko now. */
    private int handable() {
      if (switched) {
        return pending.size();
      }
      return headStart >= 0 ? headStart : scanned;
    }

    private void handOn() {
      int n = handable();
      if (n > 0 && isAvailable(toServer)) {
        push(toServer, n == pending.size() ? pending : pending.take(n));
        pending = n == pending.size() ? ByteString.emptyByteString() : pending.drop(n);
        scanned = Math.max(0, scanned - n);
        if (headStart >= 0) {
          headStart -= n;
        }
      }
    }

    private boolean wantsBytes() {
      if (awaitingSwitch || hasBeenPulled(fromClient) || isClosed(fromClient)) {
        return false;
      }
      if (closing) {
        // Read and dropped: closing with bytes unread would reset the connection, and the client
        // could lose the last answer before it read it.
        return true;
      }
      if (switched) {
        return pending.isEmpty() && isAvailable(toServer);
      }
      return scanned == pending.size()
          && (headStart >= 0 || (pending.isEmpty() && isAvailable(toServer)));
    }

    private void refuse(int at, RequestFramer.Refusal refusal) {
      if (framer.inBody()) {
        log.warn(
            "Cut off a request body from {} ({}): {}",
            client.clientIp,
            refusal.error().code(),
            refusal.reason());
        pending = pending.take(at);
        scanned = at;
        headStart = -1;
        closing = true;
        client.refuse(heads, refusal.error(), refusal.reason());
      } else {
        refuseHead(refusal.error(), refusal.reason());
      }
    }

    private void refuseHead(ProxyError error, String reason) {
      log.warn("Refused a request from {} ({}): {}", client.clientIp, error.code(), reason);
      cancelTimer(HEAD_TIMER);
      pending = pending.take(headStart).concat(STAND_IN);
      scanned = pending.size();
      headStart = -1;
      closing = true;
      client.refuse(heads + 1, error, reason);
    }

    private void dropUnfinishedHead() {
      if (headStart >= 0) {
        pending = pending.take(headStart);
        scanned = Math.min(scanned, headStart);
        headStart = -1;
        cancelTimer(HEAD_TIMER);
      }
    }
  }
}
