package io.slime.hub.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.JsonNode;
import io.slime.hub.cluster.AgentDrains;
import io.slime.hub.cluster.Revocations;
import io.slime.hub.cluster.SharedState;
import io.slime.hub.dispatch.Dispatcher;
import io.slime.shared.token.AgentToken;
import io.slime.shared.token.InvalidTokenException;
import io.slime.shared.token.TokenCodec;
import org.apache.pekko.Done;
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
  private static final long MAX_BODY = 64 * 1024;

  private final byte[] token;
  private final TokenCodec tokens;
  private final ActorRef<Dispatcher.Command> dispatcher;
  private final SharedState shared;
  private final ActorSystem<?> system;
  private final Materializer materializer;

  AdminApi(
      String adminToken,
      TokenCodec tokens,
      ActorRef<Dispatcher.Command> dispatcher,
      SharedState shared,
      ActorSystem<?> system,
      Materializer materializer) {
    this.token = adminToken.isEmpty() ? null : adminToken.getBytes(StandardCharsets.UTF_8);
    this.tokens = tokens;
    this.dispatcher = dispatcher;
    this.shared = shared;
    this.system = system;
    this.materializer = materializer;
  }

  CompletionStage<HttpResponse> handle(HttpRequest request, String clientIp) {
    if (token == null) {
      request.discardEntityBytes(materializer);
      return done(ProxyError.RESERVED_PATH.response());
    }
    String problem = authProblem(request);
    if (problem != null) {
      request.discardEntityBytes(materializer);
      log.warn("Admin request {} {} from {} refused: {}", request.method().value(),
          request.getUri().path(), clientIp, problem);
      return done(error(401, "unauthorized", problem));
    }
    String path = request.getUri().path();
    String method = request.method().value();
    if (path.equals(PREFIX + "tokens/revoke") && method.equals("POST")) {
      return request
          .entity()
          .withSizeLimit(MAX_BODY)
          .toStrict(ASK_TIMEOUT.toMillis(), materializer)
          .thenCompose(body -> revoke(body.getData().utf8String()))
          .exceptionally(
              failure -> error(400, "bad-request", "could not read the body: " + failure.getMessage()));
    }
    request.discardEntityBytes(materializer);
    if (path.equals(PREFIX + "cluster")) {
      return method.equals("GET") ? cluster() : done(error(405, "method-not-allowed", "use GET"));
    }
    if (path.startsWith(PREFIX + "agents/") && path.endsWith("/drain")) {
      String agentId = path.substring((PREFIX + "agents/").length(), path.length() - "/drain".length());
      if (agentId.isEmpty() || agentId.contains("/")) {
        return done(error(404, "not-found", "no admin endpoint " + method + " " + path));
      }
      return switch (method) {
        case "POST" -> drain(agentId, true);
        case "DELETE" -> drain(agentId, false);
        default -> done(error(405, "method-not-allowed", "POST starts a drain, DELETE ends it"));
      };
    }
    return done(error(404, "not-found", "no admin endpoint " + method + " " + path));
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

  /**
   * Revokes a token given whole ({@code {"token": "..."}}) or by id ({@code {"id": 123}}). Every
   * node refuses it from then on, and its live workers are disconnected.
   */
  private CompletionStage<HttpResponse> revoke(String body) {
    long id;
    String name = null;
    try {
      JsonNode json = JSON.readTree(body);
      if (json != null && json.hasNonNull("token")) {
        AgentToken revoked = tokens.open(json.get("token").asText());
        id = revoked.id();
        name = revoked.name();
      } else if (json != null && json.hasNonNull("id") && json.get("id").canConvertToLong()) {
        id = json.get("id").asLong();
      } else {
        return done(error(400, "bad-request", "send {\"token\": \"...\"} or {\"id\": 123}"));
      }
    } catch (InvalidTokenException e) {
      return done(error(400, "bad-token", "not a token of this hub: " + e.reason()));
    } catch (java.io.IOException e) {
      return done(error(400, "bad-request", "the body is not JSON"));
    }
    long tokenId = id;
    String tokenName = name;
    log.info("Revoking token {}{}", tokenId, tokenName == null ? "" : " (" + tokenName + ")");
    return AskPattern.<Revocations.Command, Done>ask(
            shared.revocations(),
            replyTo -> new Revocations.Revoke(tokenId, replyTo),
            ASK_TIMEOUT,
            system.scheduler())
        .thenApply(
            done -> {
              Map<String, Object> answer = new LinkedHashMap<>();
              answer.put("revoked", tokenId);
              if (tokenName != null) {
                answer.put("name", tokenName);
              }
              return json(200, answer);
            });
  }

  /** Starts or ends draining an agent on every node. */
  private CompletionStage<HttpResponse> drain(String agentId, boolean on) {
    log.info("{} agent id [{}]", on ? "Draining" : "No longer draining", agentId);
    return AskPattern.<AgentDrains.Command, Done>ask(
            shared.drains(),
            replyTo -> new AgentDrains.SetDrain(agentId, on, replyTo),
            ASK_TIMEOUT,
            system.scheduler())
        .thenApply(done -> json(200, Map.of("agent", agentId, "draining", on)));
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
