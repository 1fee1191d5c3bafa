package io.slime.hub.model;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * Where one request's answer goes, and how far the request has come, in named states:
 *
 * <pre>
 *   WAITING  ──assign──▶  ASSIGNED  ──answer──▶  ANSWERED  ──finish──▶  FINISHED
 *      ▲ │                  │                       ▲
 *      │ └──────answer──────┼───────────────────────┘   (refused by the hub itself)
 *      └─────handBack───────┘                             (to be placed again)
 *
 *   WAITING, ASSIGNED, ANSWERED  ──markGone──▶  GONE      (the application went away)
 * </pre>
 *
 * <p>One holder at a time answers, hands on or finishes it: the front door, the {@link Dispatcher}
 * while the request waits ({@link #waitWith}), then the worker or the node serving it ({@link
 * #assign}), which may hand it back ({@link #handBack}) for a retry. A holder names in its
 * transition what hears of the application going away, so the application's side ({@link
 * #markGone}, from the HTTP layer's threads) always reaches the current holder, once. The front
 * door may also answer a request it refuses before marking it gone.
 *
 * <p>Answers after the first are ignored, as is anything but {@link #finish} once the application
 * is gone: both sides can race there. The other transitions out of order are mistakes and throw
 * {@link IllegalStateException}. {@link #finish} on a gone slot lets go of it (its {@link
 * #finished} completes) and leaves it gone.
 */
public final class ResponseSlot {

  /** How far a request has come. */
  public enum State {
    /** Not with a worker: at the door, in the queue, or between holders. */
    WAITING,
    /** A worker, or another node, carries it. */
    ASSIGNED,
    /** The application has its answer's head; the body may still stream. */
    ANSWERED,
    /** Over for the hub: answered and, if streamed, its body ended. */
    FINISHED,
    /** The application went away before the end. */
    GONE
  }

  private final CompletableFuture<HttpResponse> response = new CompletableFuture<>();
  private final CompletableFuture<Void> finished = new CompletableFuture<>();
  private State state = State.WAITING;
  private Runnable onGone;

  public synchronized State state() {
    return state;
  }

  /**
   * The request waits (again) and {@code onGone} hears if the application leaves; runs it at once
   * (and returns false) when it already has.
   */
  public boolean waitWith(Runnable onGone) {
    synchronized (this) {
      // Answered already: by the door, which marks it gone next; that must reach the new holder.
      if (state == State.WAITING || state == State.ANSWERED) {
        this.onGone = onGone;
        return true;
      }
      if (state != State.GONE) {
        throw illegal("wait");
      }
    }
    onGone.run();
    return false;
  }

  /**
   * A worker (or a node) takes the request; {@code onGone} hears if the application leaves. False
   * when there is nothing to carry any more: the application left, or the door answered it.
   */
  public synchronized boolean assign(Runnable onGone) {
    if (state == State.WAITING) {
      state = State.ASSIGNED;
      this.onGone = onGone;
      return true;
    }
    if (state == State.GONE || state == State.ANSWERED) {
      return false;
    }
    throw illegal("assign");
  }

  /** The holder gives the request back unanswered, for the dispatcher to place again. */
  public synchronized void handBack() {
    if (state == State.ASSIGNED) {
      state = State.WAITING;
      onGone = null;
    } else if (state != State.GONE && state != State.ANSWERED) {
      throw illegal("hand back");
    }
  }

  /** Answers the application; false (and ignored) when it has an answer already or is gone. */
  public boolean answer(HttpResponse answer) {
    synchronized (this) {
      if (state != State.WAITING && state != State.ASSIGNED) {
        return false;
      }
      state = State.ANSWERED;
    }
    response.complete(answer);
    return true;
  }

  /** The request is over for the hub: answered and its body ended, or its application gone. */
  public void finish() {
    synchronized (this) {
      if (state == State.ANSWERED) {
        state = State.FINISHED;
      } else if (state == State.WAITING || state == State.ASSIGNED) {
        throw illegal("finish");
      }
    }
    finished.complete(null);
  }

  /** The application went away: the holder hears of it once, unless the request is over. */
  public void markGone() {
    Runnable notify;
    synchronized (this) {
      if (state == State.GONE || state == State.FINISHED) {
        return;
      }
      state = State.GONE;
      notify = onGone;
      onGone = null;
    }
    if (notify != null) {
      notify.run();
    }
  }

  public synchronized boolean isGone() {
    return state == State.GONE;
  }

  public boolean isAnswered() {
    return response.isDone();
  }

  /** The answer, once there is one. */
  public CompletionStage<HttpResponse> response() {
    return response;
  }

  /** Completes when the hub is done with the request (its --concurrent slot is free again). */
  public CompletionStage<Void> finished() {
    return finished;
  }

  private IllegalStateException illegal(String transition) {
    return new IllegalStateException("cannot " + transition + " a request that is " + state);
  }
}
