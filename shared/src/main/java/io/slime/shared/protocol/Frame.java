package io.slime.shared.protocol;

import java.util.List;
import org.apache.pekko.util.ByteString;

/**
 * One message on a worker's WebSocket. Every frame names the exchange it belongs to: a counter the
 * hub raises for each request it gives the worker, so frames of an exchange that was cancelled can
 * be recognised and dropped when they arrive late.
 *
 * <p>An exchange is: hub sends {@link RequestStart} (with the whole body inline when small), then
 * {@link BodyChunk}s until one is {@code last}; the agent answers {@link ResponseStart}, then
 * chunks until one is {@code last}, or a {@link Failure} at any point. The hub may send {@link
 * Cancel} when the application went away; the agent then aborts the upstream call and answers
 * {@link Failure} unless it had already finished.
 */
public sealed interface Frame {
  int exchange();

  /** Body length when unknown (chunked or close-delimited). */
  long UNKNOWN_LENGTH = -1;

  /** Hub to agent: a request head, and its whole body when {@code last}. */
  record RequestStart(
      int exchange,
      String method,
      String target,
      List<Header> headers,
      String contentType,
      long contentLength,
      boolean last,
      ByteString body)
      implements Frame {}

  /** Agent to hub: the upstream's response head, and its whole body when {@code last}. */
  record ResponseStart(
      int exchange,
      int status,
      List<Header> headers,
      String contentType,
      long contentLength,
      boolean last,
      ByteString body)
      implements Frame {}

  /** Either way: the next piece of the current body; {@code last} ends it. */
  record BodyChunk(int exchange, ByteString bytes, boolean last) implements Frame {}

  /** Hub to agent: the application went away; abort the upstream call. */
  record Cancel(int exchange) implements Frame {}

  /**
   * Agent to hub: the exchange ended without a (complete) response; the reason is shown to users,
   * the kind tells the hub how to answer. {@code resent} says the agent already sent the request a
   * second time, so the upstream may have seen it twice and the hub must not try again.
   */
  record Failure(int exchange, String reason, Kind kind, boolean resent) implements Frame {
    /** A failure as peers without kinds sent it: the upstream could not be reached. */
    public Failure(int exchange, String reason) {
      this(exchange, reason, Kind.UNREACHABLE, false);
    }

    /**
     * Why an exchange failed. New kinds go at the end: the codec sends the ordinal, and a kind a
     * peer does not know reads as {@link #UNREACHABLE}.
     */
    public enum Kind {
      /** The upstream could not be reached, or broke off; also what old peers mean. */
      UNREACHABLE,
      /** The upstream sent no response head, or no body bytes, within the agent's limits. */
      TIMEOUT,
      /** The upstream's answer broke HTTP's framing or syntax. */
      MALFORMED,
      /** The agent refused to send a header it cannot write as it is. */
      BAD_HEADER,
      /** The agent refused to send a request target it cannot write as it is. */
      BAD_TARGET,
      /** The exchange was cancelled, superseded or lost with the hub. */
      CANCELLED
    }
  }

  /**
   * Agent to hub, outside any exchange: the agent's {@link io.slime.shared.agent.AgentReport} as
   * JSON (its upstream's health and its machine's load).
   */
  record Report(String json) implements Frame {
    @Override
    public int exchange() {
      return 0;
    }
  }

  /**
   * Either way, when nothing else was sent for a while: proves the peer is alive, which the
   * WebSocket's own pings do not (Pekko answers them without telling anyone).
   */
  record Heartbeat() implements Frame {
    @Override
    public int exchange() {
      return 0;
    }
  }
}
