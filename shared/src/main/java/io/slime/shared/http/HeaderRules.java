package io.slime.shared.http;

import io.slime.shared.protocol.Header;
import io.slime.shared.protocol.SlimeHeaders;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which header fields a hop passes on, for hub and agent alike: the rules live here and nowhere
 * else. Never passed on, in either direction:
 *
 * <ul>
 *   <li>the hop-by-hop fields of RFC 9110 section 7.6.1 ({@code Connection}, {@code Keep-Alive},
 *       {@code Proxy-Connection}, {@code TE}, {@code Trailer}, {@code Transfer-Encoding}, {@code
 *       Upgrade}), the proxy authentication fields of section 11.7 ({@code Proxy-Authenticate},
 *       {@code Proxy-Authorization}, {@code Proxy-Authentication-Info}) and {@code HTTP2-Settings};
 *   <li>every field named in any {@code Connection} field of the same message (several fields,
 *       comma lists, any case);
 *   <li>{@code Slime-*}: the hub's own control and answer headers, which only the hub sets;
 *   <li>what Pekko HTTP models as headers but are attributes of one process ({@code
 *       Timeout-Access}, {@code Remote-Address}, {@code Raw-Request-URI}, {@code Tls-Session-Info},
 *       {@code UpgradeToWebSocket}, {@code UpgradeToOtherProtocolResponseHeader}), whoever sent a
 *       field of that name.
 * </ul>
 *
 * Requests also lose every {@code Proxy-*} field and {@code Proxy} (which CGI-style servers turn
 * into an {@code HTTP_PROXY} setting): an upstream behind a reverse proxy has no proxy to talk to.
 */
public final class HeaderRules {
  private static final Set<String> HOP_BY_HOP =
      Set.of(
          "connection",
          "keep-alive",
          "proxy-connection",
          "te",
          "trailer",
          "transfer-encoding",
          "upgrade",
          "proxy-authenticate",
          "proxy-authorization",
          "proxy-authentication-info",
          "http2-settings");

  private static final Set<String> PEKKO_INTERNAL =
      Set.of(
          "timeout-access",
          "remote-address",
          "raw-request-uri",
          "tls-session-info",
          "upgradetowebsocket",
          "upgradetootherprotocolresponseheader");

  private HeaderRules() {}

  /** Whether a request field of this lowercase name never reaches the upstream. */
  public static boolean neverInRequest(String lowercaseName) {
    return neverInResponse(lowercaseName)
        || lowercaseName.equals("proxy")
        || lowercaseName.startsWith("proxy-");
  }

  /** Whether a response field of this lowercase name never reaches the application as it came. */
  public static boolean neverInResponse(String lowercaseName) {
    return HOP_BY_HOP.contains(lowercaseName)
        || PEKKO_INTERNAL.contains(lowercaseName)
        || lowercaseName.startsWith(SlimeHeaders.CONTROL_PREFIX);
  }

  /** The request fields that pass, in their order. */
  public static List<Header> request(List<Header> headers) {
    return passing(headers, true);
  }

  /** The response fields that pass, in their order. */
  public static List<Header> response(List<Header> headers) {
    return passing(headers, false);
  }

  /** Adds the field names a {@code Connection} field's value lists, lowercase, to {@code into}. */
  public static void addConnectionOptions(String value, Set<String> into) {
    for (String option : value.split(",")) {
      String name = option.strip().toLowerCase(Locale.ROOT);
      if (!name.isEmpty()) {
        into.add(name);
      }
    }
  }

  private static List<Header> passing(List<Header> headers, boolean request) {
    // Every Connection field counts, wherever it stands: the names it lists go, before or after it.
    Set<String> listed = null;
    for (Header h : headers) {
      if (h.name().equalsIgnoreCase("connection")) {
        if (listed == null) {
          listed = new HashSet<>();
        }
        addConnectionOptions(h.value(), listed);
      }
    }
    List<Header> out = new ArrayList<>(headers.size());
    for (Header h : headers) {
      String name = h.name().toLowerCase(Locale.ROOT);
      boolean never = request ? neverInRequest(name) : neverInResponse(name);
      if (!never && (listed == null || !listed.contains(name))) {
        out.add(h);
      }
    }
    return out;
  }
}
