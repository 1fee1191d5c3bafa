package io.slime.shared.protocol;

/** A peer sent something the protocol does not allow; the connection it came on is closed. */
public final class ProtocolException extends RuntimeException {
  public ProtocolException(String message) {
    super(message);
  }
}
