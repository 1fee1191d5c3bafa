package io.slime.shared.token;

import java.util.Objects;

/**
 * An agent token was refused. {@link #reason()} is short and safe to log or send back to the agent:
 * it never contains the token itself.
 */
public final class InvalidTokenException extends Exception {

  /** Why a token was refused, for callers that answer differently per cause. */
  public enum Kind {
    /** Not base64url, too short, too long or of an unknown version. */
    MALFORMED,
    /** Sealed with another secret, or altered after sealing. */
    FORGED,
    /** Authentic but its payload cannot be read (written by an incompatible version). */
    UNREADABLE,
    /** Authentic and readable, but past its expiry. */
    EXPIRED
  }

  private final Kind kind;
  private final String reason;

  public InvalidTokenException(Kind kind, String reason) {
    super(reason, null, false, false);
    this.kind = Objects.requireNonNull(kind, "kind");
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  public Kind kind() {
    return kind;
  }

  /** A short reason, safe to log. */
  public String reason() {
    return reason;
  }
}
