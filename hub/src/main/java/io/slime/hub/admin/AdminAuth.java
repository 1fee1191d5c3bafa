package io.slime.hub.admin;

import io.slime.hub.model.ProxyError;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin token check: a request passes when it carries {@code Authorization: Bearer <admin
 * token>}; any other gets 401 unauthorized saying why, and a WARN line naming the client.
 */
final class AdminAuth {
  private static final Logger log = LoggerFactory.getLogger(AdminAuth.class);

  /** The token's bytes; null when none is configured, so that nothing passes. */
  private final byte[] token;

  AdminAuth(String adminToken) {
    this.token = adminToken.isEmpty() ? null : adminToken.getBytes(StandardCharsets.UTF_8);
  }

  boolean configured() {
    return token != null;
  }

  /** {@code inner} for a request with the admin token, else 401 with its body dropped. */
  Route authorized(Supplier<Route> inner) {
    return Directives.extractRequest(
        request -> {
          String problem = problem(request);
          if (problem == null) {
            return inner.get();
          }
          String path = request.getUri().path();
          log.warn(
              "{} request {} {} from {} refused: {}",
              path.equals(AdminRoutes.STATUS_PATH) ? "Status" : "Admin",
              request.method().value(),
              path,
              AdminRoutes.clientIp(request),
              problem);
          return JsonBody.discarded(() -> AdminJson.error(ProxyError.ADMIN_UNAUTHORIZED, problem));
        });
  }

  /** Why the request may not pass, or null when it may. */
  private String problem(HttpRequest request) {
    if (token == null) {
      return "the admin token is not set";
    }
    String header = request.getHeader("Authorization").map(HttpHeader::value).orElse(null);
    if (header == null) {
      return "no Authorization header";
    }
    if (!header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return "Authorization is not a bearer token";
    }
    byte[] given = header.substring(7).strip().getBytes(StandardCharsets.UTF_8);
    // Constant time, so the token cannot be guessed byte by byte from response times.
    return MessageDigest.isEqual(given, token) ? null : "wrong admin token";
  }
}
