package io.slime.shared.protocol;

import java.util.Set;

/** Headers that describe one connection, never forwarded (RFC 9110 section 7.6.1), lowercase. */
public final class HopByHop {
  public static final Set<String> HEADERS =
      Set.of(
          "connection",
          "keep-alive",
          "proxy-authenticate",
          "proxy-authorization",
          "proxy-connection",
          "te",
          "trailer",
          "transfer-encoding",
          "upgrade");

  private HopByHop() {}
}
