package io.slime.hub.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.slime.hub.dispatch.Dispatcher;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.stream.Materializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin endpoints under {@code /_slime/api/v1/}: JSON, and only for a request that carries
 * {@code Authorization: Bearer <admin token>}. Without an admin token configured they do not
 * exist (404), so a hub never exposes them by accident.
 */
final class AdminApi {
  static final String PREFIX = "/_slime/api/v1/";

  private static final Logger log = LoggerFactory.getLogger(AdminApi.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(5);

  private final byte[] token;
  private final ActorRef<Dispatcher.Command> dispatcher;
  private final ActorSystem<?> system;
  private final Materializer materializer;

  AdminApi(
      String adminToken,
      ActorRef<Dispatcher.Command> dispatcher,
      ActorSystem<?> system,
      Materializer materializer) {
    this.token = adminToken.isEmpty() ? null : adminToken.getBytes(StandardCharsets.UTF_8);
    this.dispatcher = dispatcher;
    this.system = system;
    this.materializer = materializer;
  }

  CompletionStage<HttpResponse> handle(HttpRequest request, String clientIp) {
    request.discardEntityBytes(materializer);
    if (token == null) {
      return done(ProxyError.RESERVED_PATH.response());
    }
    String problem = authProblem(request);
    if (problem != null) {
      log.warn("Admin request {} {} from {} refused: {}", request.method().value(),
          request.getUri().path(), clientIp, problem);
      return done(error(401, "unauthorized", problem));
    }
    String path = request.getUri().path();
    String method = request.method().value();
    if (path.equals(PREFIX + "cluster")) {
      return method.equals("GET") ? cluster() : done(error(405, "method-not-allowed", "use GET"));
    }
    return done(error(404, "not-found", "no admin endpoint at " + path));
  }

  private String authProblem(HttpRequest request) {
    String header = request.getHeader("Authorization").map(h -> h.value()).orElse(null);
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

  /** Members of the cluster with their workers, the same from any node. */
  private CompletionStage<HttpResponse> cluster() {
    return AskPattern.<Dispatcher.Command, Dispatcher.PoolView>ask(
            dispatcher, Dispatcher.GetPool::new, ASK_TIMEOUT, system.scheduler())
        .thenApply(
            pool -> {
              List<Map<String, Object>> members = new ArrayList<>();
              for (Dispatcher.NodePool node : pool.nodes()) {
                Map<String, Object> member = new LinkedHashMap<>();
                member.put("address", node.address());
                member.put("status", node.status());
                member.put("self", node.self());
                member.put("workers", node.workers());
                member.put("idle", node.idle());
                member.put("busy", node.workers() - node.idle());
                member.put("waiting", node.waiting());
                members.add(member);
              }
              return json(200, Map.of("members", members));
            });
  }

  private static HttpResponse error(int status, String code, String detail) {
    return json(status, Map.of("error", code, "detail", detail));
  }

  private static HttpResponse json(int status, Object body) {
    try {
      return HttpResponse.create()
          .withStatus(status)
          .withEntity(ContentTypes.APPLICATION_JSON, JSON.writeValueAsBytes(body));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static CompletionStage<HttpResponse> done(HttpResponse response) {
    return CompletableFuture.completedFuture(response);
  }
}
