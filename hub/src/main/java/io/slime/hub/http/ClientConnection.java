package io.slime.hub.http;

import io.slime.hub.dispatch.Exchange;

/**
 * One application TCP connection. Pekko HTTP serves its requests one at a time, so it has at most
 * one exchange waiting for an answer; when the connection closes first, that exchange's
 * application has gone away.
 */
final class ClientConnection {
  final String clientIp;
  private Exchange current;
  private boolean closed;

  ClientConnection(String clientIp) {
    this.clientIp = clientIp;
  }

  void track(Exchange exchange) {
    boolean gone;
    synchronized (this) {
      current = exchange;
      gone = closed;
    }
    if (gone) {
      exchange.markGone();
    }
  }

  void closed() {
    Exchange exchange;
    synchronized (this) {
      closed = true;
      exchange = current;
      current = null;
    }
    if (exchange != null && !exchange.isAnswered()) {
      exchange.markGone();
    }
  }
}
