package io.slime.hub.http;

import io.slime.shared.protocol.Header;
import io.slime.shared.protocol.HopByHop;
import io.slime.shared.protocol.SlimeHeaders;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/**
 * The application's request headers as the upstream gets them, and the Slime-* control headers
 * read on the way: one pass over the headers per request.
 */
final class ForwardedHeaders {
  /** Besides the hop-by-hop ones: set anew for the upstream, carried by the entity, or Pekko's own. */
  private static final Set<String> NOT_FORWARDED =
      Set.of(
          "host",
          "content-type",
          "content-length",
          "timeout-access",
          "remote-address",
          "raw-request-uri",
          "tls-session-info");

  final List<Header> forwarded;
  final String appPassword;
  final String scope;
  final boolean block;

  private ForwardedHeaders(List<Header> forwarded, String appPassword, String scope, boolean block) {
    this.forwarded = forwarded;
    this.appPassword = appPassword;
    this.scope = scope;
    this.block = block;
  }

  static ForwardedHeaders of(HttpRequest request, String clientIp) {
    List<Header> out = new ArrayList<>();
    String appPassword = null;
    String scope = null;
    boolean block = false;
    String forwardedFor = null;
    String forwardedProto = null;
    String forwardedHost = null;
    String host = null;
    Set<String> connectionOptions = Set.of();
    for (HttpHeader h : request.getHeaders()) {
      String name = h.lowercaseName();
      if (name.startsWith(SlimeHeaders.CONTROL_PREFIX)) {
        switch (name) {
          case "slime-app-password" -> appPassword = h.value();
          case "slime-scope" -> scope = h.value().trim();
          case "slime-block" -> block = h.value().trim().equals("1");
          default -> {}
        }
      } else if (name.equals("connection")) {
        connectionOptions = connectionOptions(h.value());
      } else if (name.equals("x-forwarded-for")) {
        forwardedFor = h.value();
      } else if (name.equals("x-forwarded-proto")) {
        forwardedProto = h.value();
      } else if (name.equals("x-forwarded-host")) {
        forwardedHost = h.value();
      } else if (name.equals("host")) {
        host = h.value();
      } else if (!HopByHop.HEADERS.contains(name) && !NOT_FORWARDED.contains(name)) {
        out.add(new Header(h.name(), h.value()));
      }
    }
    if (!connectionOptions.isEmpty()) {
      Set<String> options = connectionOptions;
      out.removeIf(h -> options.contains(h.name().toLowerCase(Locale.ROOT)));
    }
    out.add(
        new Header(
            "X-Forwarded-For", forwardedFor == null ? clientIp : forwardedFor + ", " + clientIp));
    out.add(new Header("X-Forwarded-Proto", forwardedProto != null ? forwardedProto : "http"));
    if (forwardedHost == null) {
      // As the application addressed the hub, port included (HTTP/1.0 may send no Host).
      forwardedHost = host != null ? host : request.getUri().host().address();
    }
    out.add(new Header("X-Forwarded-Host", forwardedHost));
    return new ForwardedHeaders(out, appPassword, scope == null || scope.isEmpty() ? null : scope, block);
  }

  /** Headers named in Connection are hop-by-hop too. */
  private static Set<String> connectionOptions(String value) {
    Set<String> options = new java.util.HashSet<>();
    for (String token : value.split(",")) {
      String option = token.trim().toLowerCase(Locale.ROOT);
      if (!option.isEmpty()) {
        options.add(option);
      }
    }
    return options;
  }
}
