package io.slime.hub.policy;

import java.util.Locale;

/** What kind of exchange a request starts, for routing by protocol as SpeedMimi does. */
public enum Protocol {
  HTTP,
  /** The application asks for server-sent events ({@code Accept: text/event-stream}). */
  SSE,
  /** The application asks for a WebSocket upgrade ({@code Upgrade: websocket}). */
  WEBSOCKET;

  /** The protocol of a request with these {@code Accept} and {@code Upgrade} values (or null). */
  public static Protocol of(String accept, String upgrade) {
    if (upgrade != null && upgrade.toLowerCase(Locale.ROOT).contains("websocket")) {
      return WEBSOCKET;
    }
    if (accept != null && accept.toLowerCase(Locale.ROOT).contains("text/event-stream")) {
      return SSE;
    }
    return HTTP;
  }

  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
