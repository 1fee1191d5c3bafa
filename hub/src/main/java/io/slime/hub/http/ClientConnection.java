package io.slime.hub.http;

import io.slime.hub.model.ProxyError;
import io.slime.hub.model.ResponseSlot;
import java.util.function.Consumer;

/**
 * One client TCP connection, shared by its {@link HeadGuard} (which reads its bytes) and the
 * handler (which answers its requests, numbered from 1 in arrival order). Pekko HTTP serves its
 * requests one at a time, so it has at most one exchange waiting for an answer; when the connection
 * closes first, that exchange's application has gone away.
 *
 * <p>The guard refuses a request by its number: one it has not handed on yet (its head broke the
 * rules) is answered by the handler when it arrives, so the refusal comes after the answers to the
 * requests before it; one already being served (its body broke off) has its exchange answered and
 * cancelled.
 */
final class ClientConnection {
  /** A refused request and its answer. */
  record Refusal(int request, ProxyError error, String reason) {}

  final String clientIp;
  private int arrived;
  private ResponseSlot current;
  private boolean closed;
  private Refusal refusal;
  private int switchRequest;
  private Consumer<Boolean> switchDecided;
  private Runnable stop;
  private boolean stopAsked;

  ClientConnection(String clientIp) {
    this.clientIp = clientIp;
  }

  /** The next request reached the handler: returns its number. */
  synchronized int arrived() {
    current = null;
    return ++arrived;
  }

  /** The refusal the guard decided for request {@code n}, or null. */
  synchronized Refusal refusalOf(int n) {
    return refusal != null && refusal.request() == n ? refusal : null;
  }

  void track(ResponseSlot request) {
    boolean gone;
    Refusal refused;
    synchronized (this) {
      current = request;
      gone = closed;
      refused = refusalOf(arrived);
    }
    if (refused != null) {
      answer(request, refused);
    } else if (gone) {
      request.markGone();
    }
  }

  /** Called by the guard: request {@code n} is refused, and nothing after it is read. */
  void refuse(int n, ProxyError error, String reason) {
    ResponseSlot serving;
    Refusal refused = new Refusal(n, error, reason);
    synchronized (this) {
      refusal = refused;
      serving = arrived == n ? current : null;
    }
    if (serving != null) {
      answer(serving, refused);
    }
  }

  private static void answer(ResponseSlot request, Refusal refused) {
    request.answer(refused.error().closingResponse(refused.reason()));
    request.markGone();
  }

  /**
   * Called by the guard: request {@code n} asks to switch protocols, and {@code decided} must hear
   * whether it did before the bytes after it can be read.
   */
  synchronized void awaitSwitch(int n, Consumer<Boolean> decided) {
    switchRequest = n;
    switchDecided = decided;
  }

  /** Called by the handler as it answers request {@code n}. */
  void answered(int n, boolean switched) {
    Consumer<Boolean> decided;
    synchronized (this) {
      decided = switchRequest == n ? switchDecided : null;
    }
    if (decided != null) {
      decided.accept(switched);
    }
  }

  /** Called by the guard as it starts: how to close the connection once its answers are out. */
  void onStop(Runnable stopper) {
    boolean asked;
    synchronized (this) {
      stop = stopper;
      asked = stopAsked;
    }
    if (asked) {
      stopper.run();
    }
  }

  /** Reads no more requests, and closes once those read are answered. */
  void stop() {
    Runnable stopper;
    synchronized (this) {
      stopAsked = true;
      stopper = stop;
    }
    if (stopper != null) {
      stopper.run();
    }
  }

  void closed() {
    ResponseSlot request;
    synchronized (this) {
      closed = true;
      request = current;
      current = null;
    }
    if (request != null && !request.isAnswered()) {
      request.markGone();
    }
  }
}
