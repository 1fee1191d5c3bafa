package io.slime.shared.stream;

/** A streamed body ended before its last chunk: the peer failed, cancelled or disconnected. */
public final class BodyLostException extends RuntimeException {
  public BodyLostException(String message) {
    super(message, null, false, false);
  }

  public BodyLostException(String message, Throwable cause) {
    super(message, cause, false, false);
  }
}
