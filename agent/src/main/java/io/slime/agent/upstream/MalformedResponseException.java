package io.slime.agent.upstream;

/**
 * The upstream's answer broke HTTP's framing or syntax; the message says how. Thrown for traffic,
 * not for bugs: it carries no stack trace.
 */
public final class MalformedResponseException extends RuntimeException {
  public MalformedResponseException(String message) {
    super(message, null, false, false);
  }
}
