package io.slime.hub.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.typesafe.config.Config;
import io.slime.hub.dispatch.Dispatcher;
import io.slime.hub.dispatch.NodeView;
import io.slime.hub.model.ProxyError;
import io.slime.hub.replicated.AgentControl;
import io.slime.hub.replicated.AgentControls;
import io.slime.hub.replicated.Revocations;
import io.slime.hub.replicated.SharedState;
import io.slime.hub.stats.TrafficSnapshot;
import io.slime.hub.tls.ServerCertificate;
import io.slime.shared.protocol.SlimeHeaders;
import io.slime.shared.token.AgentToken;
import io.slime.shared.token.InvalidTokenException;
import io.slime.shared.token.TokenCodec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.Materializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin endpoints under {@code /_slime/api/v1/}, and the pool summary at {@code
 * /_slime/status}: JSON, and (but for the summary, unless configured) only for a request that
 * carries {@code Authorization: Bearer <admin token>}. Without an admin token configured the API
 * does not exist (404), so a hub never exposes it by accident. Every answer is the same from any
 * node: views are gathered from all of them, and changes go to all of them.
 */
public final class AdminApi {
  public static final String PREFIX = "/_slime/api/v1/";
  public static final String STATUS_PATH = "/_slime/status";

  private static final Logger log = LoggerFactory.getLogger(AdminApi.class);
  private static final ObjectMapper JSON =
      JsonMapper.builder().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS).build();
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(5);
  private static final long MAX_BODY = 64 * 1024;
  private static final String BAD_CERT = ServerCertificate.Refused.CODE;

  private final byte[] token;
  private final boolean statusNeedsToken;
  private final TokenCodec tokens;
  private final ActorRef<Dispatcher.Command> dispatcher;
  private final SharedState shared;
  private final ActorSystem<?> system;
  private final Materializer materializer;
  private final ClusterGather gather;
  private final Map<String, Object> effectiveConfig;

  /** The port's certificate, or null without TLS. */
  private final ServerCertificate certificate;

  public AdminApi(
      String adminToken,
      boolean statusNeedsToken,
      Config config,
      TokenCodec tokens,
      ActorRef<Dispatcher.Command> dispatcher,
      SharedState shared,
      ActorSystem<?> system,
      ServerCertificate certificate) {
    this.token = adminToken.isEmpty() ? null : adminToken.getBytes(StandardCharsets.UTF_8);
    this.statusNeedsToken = statusNeedsToken;
    this.tokens = tokens;
    this.dispatcher = dispatcher;
    this.shared = shared;
    this.system = system;
    this.materializer = Materializer.matFromSystem(system);
    this.gather = new ClusterGather(dispatcher, system);
    this.effectiveConfig = EffectiveConfig.of(config);
    this.certificate = certificate;
  }

  /** {@code GET /_slime/status}: workers, idle, busy and waiting across the cluster. */
  public CompletionStage<HttpResponse> status(HttpRequest request, String clientIp) {
    request.discardEntityBytes(materializer);
    if (statusNeedsToken) {
      String problem = token == null ? "the admin token is not set" : authProblem(request);
      if (problem != null) {
        log.warn("Status request from {} refused: {}", clientIp, problem);
        return done(error(401, "unauthorized", problem));
      }
    }
    return AskPattern.<Dispatcher.Command, Dispatcher.PoolView>ask(
            dispatcher, Dispatcher.GetPool::new, ASK_TIMEOUT, system.scheduler())
        .thenApply(
            pool -> {
              int workers = 0;
              int idle = 0;
              int waiting = 0;
              for (Dispatcher.NodePool node : pool.nodes()) {
                workers += node.workers();
                idle += node.idle();
                waiting += node.waiting();
              }
              Map<String, Object> out = new LinkedHashMap<>();
              out.put("nodes", pool.nodes().size());
              out.put("agents", pool.agents());
              out.put("workers", workers);
              out.put("idle", idle);
              out.put("busy", workers - idle);
              out.put("waiting", waiting);
              return json(200, out);
            });
  }

  public CompletionStage<HttpResponse> handle(HttpRequest request, String clientIp) {
    if (token == null) {
      request.discardEntityBytes(materializer);
      return done(ProxyError.RESERVED_PATH.response());
    }
    String problem = authProblem(request);
    if (problem != null) {
      request.discardEntityBytes(materializer);
      log.warn(
          "Admin request {} {} from {} refused: {}",
          request.method().value(),
          request.getUri().path(),
          clientIp,
          problem);
      return done(error(401, "unauthorized", problem));
    }
    String path = request.getUri().path().substring(PREFIX.length());
    String method = request.method().value();
    String[] parts = path.split("/", -1);
    if (method.equals("POST") && path.equals("tokens/revoke")) {
      return withBody(request, this::revoke);
    }
    if (method.equals("PUT") && parts.length == 2 && parts[0].equals("agents")) {
      return withBody(request, body -> update(parts[1], body));
    }
    request.discardEntityBytes(materializer);
    return switch (parts[0]) {
      case "cluster" ->
          path.equals("cluster") ? get(method, this::cluster) : notFound(method, path);
      case "config" ->
          path.equals("config")
              ? get(method, () -> done(json(200, effectiveConfig)))
              : notFound(method, path);
      case "stats" -> stats(method, parts, path);
      case "agents" -> agents(method, parts, path);
      case "tls" -> path.equals("tls/reload") ? tlsReload(method) : notFound(method, path);
      default -> notFound(method, path);
    };
  }

  private CompletionStage<HttpResponse> agents(String method, String[] parts, String path) {
    if (parts.length == 1) {
      return get(method, this::listAgents);
    }
    String agentId = parts[1];
    if (agentId.isEmpty() || parts.length > 3) {
      return notFound(method, path);
    }
    if (parts.length == 2) {
      return method.equals("GET")
          ? oneAgent(agentId)
          : done(error(405, "method-not-allowed", "GET shows the agent, PUT changes it"));
    }
    return switch (parts[2]) {
      case "drain" ->
          switch (method) {
            case "POST" -> drain(agentId, true);
            case "DELETE" -> drain(agentId, false);
            default ->
                done(error(405, "method-not-allowed", "POST starts a drain, DELETE ends it"));
          };
      case "disconnect" ->
          method.equals("POST")
              ? disconnect(agentId)
              : done(error(405, "method-not-allowed", "use POST"));
      default -> notFound(method, path);
    };
  }

  /** Reads this node's certificate files again (each node reads its own). */
  private CompletionStage<HttpResponse> tlsReload(String method) {
    if (!method.equals("POST")) {
      return done(error(405, "method-not-allowed", "use POST"));
    }
    if (certificate == null) {
      return done(error(404, "not-found", "TLS is off: this hub runs without --tlsCert"));
    }
    ServerCertificate.Reload reload = certificate.reload();
    return done(
        reload instanceof ServerCertificate.Refused
            ? json(422, reload.json()).addHeader(RawHeader.create(SlimeHeaders.ERROR, BAD_CERT))
            : json(200, reload.json()));
  }

  private CompletionStage<HttpResponse> stats(String method, String[] parts, String path) {
    if (parts.length == 1) {
      return get(method, this::hubStats);
    }
    if (parts.length == 3 && parts[1].equals("agents") && !parts[2].isEmpty()) {
      return get(method, () -> agentStats(parts[2]));
    }
    return notFound(method, path);
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

  // ---- agents ----

  private CompletionStage<HttpResponse> listAgents() {
    return gathered(
        (gathered, controls) -> {
          List<Map<String, Object>> agents = new ArrayList<>();
          AgentsJson.byAgent(gathered.views())
              .forEach(
                  (id, parts) ->
                      agents.add(
                          AgentsJson.agent(parts, controls.getOrDefault(id, AgentControl.NONE))));
          Map<String, Object> out = new LinkedHashMap<>();
          out.put("agents", agents);
          addMissing(out, gathered);
          return json(200, out);
        });
  }

  private CompletionStage<HttpResponse> oneAgent(String agentId) {
    return withAgent(agentId, agent -> json(200, agent));
  }

  /**
   * Answers with {@code answer} of the agent as the API shows it, or 404 when none is connected.
   */
  private CompletionStage<HttpResponse> withAgent(
      String agentId, Function<Map<String, Object>, HttpResponse> answer) {
    return gathered(
        (gathered, controls) -> {
          List<NodeView.Agent> parts = AgentsJson.byAgent(gathered.views()).get(agentId);
          if (parts == null) {
            return error(404, "not-found", "no agent with id " + agentId + " is connected");
          }
          return answer.apply(
              AgentsJson.agent(parts, controls.getOrDefault(agentId, AgentControl.NONE)));
        });
  }

  /**
   * {@code PUT /agents/{id}} with any of {@code weight}, {@code rpm}, {@code bpm} (null clears the
   * override) and {@code draining}. It holds on every node, and for the agent's future workers too.
   */
  private CompletionStage<HttpResponse> update(String agentId, String body) {
    AgentUpdate update;
    try {
      update = AgentUpdate.parse(JSON.readTree(body));
    } catch (IllegalArgumentException e) {
      return done(error(400, "bad-request", e.getMessage()));
    } catch (IOException e) {
      return done(error(400, "bad-request", "the body is not JSON"));
    }
    log.info("Changing agent id [{}]: {}", agentId, JSON.valueToTree(update.asFields()));
    return changeControl(agentId, update::applyTo)
        .thenApply(
            control -> {
              Map<String, Object> out = new LinkedHashMap<>();
              out.put("agent", agentId);
              out.putAll(AgentsJson.overrides(control));
              return json(200, out);
            });
  }

  /** Starts or ends draining an agent on every node. */
  private CompletionStage<HttpResponse> drain(String agentId, boolean on) {
    log.info("{} agent id [{}]", on ? "Draining" : "No longer draining", agentId);
    return changeControl(agentId, c -> new AgentControl(c.weight(), c.rpm(), c.bpm(), on))
        .thenApply(control -> json(200, ordered("agent", agentId, "draining", on)));
  }

  private CompletionStage<HttpResponse> disconnect(String agentId) {
    log.info("Disconnecting agent id [{}]", agentId);
    return gather
        .disconnect(agentId)
        .thenApply(
            closed ->
                closed == 0
                    ? error(404, "not-found", "no agent with id " + agentId + " is connected")
                    : json(200, ordered("agent", agentId, "disconnected", closed)));
  }

  private CompletionStage<AgentControl> changeControl(
      String agentId, java.util.function.UnaryOperator<AgentControl> change) {
    return AskPattern.<AgentControls.Command, AgentControl>ask(
        shared.controls(),
        replyTo -> new AgentControls.Change(agentId, change, replyTo),
        ASK_TIMEOUT,
        system.scheduler());
  }

  // ---- stats and the cluster ----

  private CompletionStage<HttpResponse> hubStats() {
    return gathered(
        (gathered, controls) -> {
          TrafficSnapshot total = TrafficSnapshot.empty();
          int waiting = 0;
          List<Map<String, Object>> nodes = new ArrayList<>();
          for (NodeView view : gathered.views()) {
            total = total.plus(view.traffic());
            waiting += view.waiting();
            Map<String, Object> node = new LinkedHashMap<>();
            node.put("node", view.node());
            node.put("waiting", view.waiting());
            node.put("requests", view.traffic().requests());
            nodes.add(node);
          }
          Map<String, Object> out = new LinkedHashMap<>();
          out.put("agents", AgentsJson.byAgent(gathered.views()).size());
          out.put("waiting", waiting);
          out.putAll(total.toJson());
          out.put("nodes", nodes);
          addMissing(out, gathered);
          return json(200, out);
        });
  }

  private CompletionStage<HttpResponse> agentStats(String agentId) {
    return withAgent(
        agentId,
        agent -> {
          Map<String, Object> out = new LinkedHashMap<>();
          out.put("agent", agentId);
          out.put("state", agent.get("state"));
          out.put("inFlight", agent.get("inFlight"));
          out.put("usage", agent.get("usage"));
          @SuppressWarnings("unchecked")
          Map<String, Object> counters = (Map<String, Object>) agent.get("counters");
          out.putAll(counters);
          return json(200, out);
        });
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
              return json(200, ordered("members", members));
            });
  }

  /** Gathers every node's view and the operators' settings, then answers with {@code answer}. */
  private CompletionStage<HttpResponse> gathered(
      java.util.function.BiFunction<ClusterGather.Gathered, Map<String, AgentControl>, HttpResponse>
          answer) {
    CompletionStage<Map<String, AgentControl>> controls =
        AskPattern.ask(shared.controls(), AgentControls.Get::new, ASK_TIMEOUT, system.scheduler());
    return gather.views().thenCombine(controls, answer);
  }

  private static void addMissing(Map<String, Object> out, ClusterGather.Gathered gathered) {
    if (!gathered.missing().isEmpty()) {
      out.put("missingNodes", gathered.missing());
    }
  }

  // ---- tokens ----

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
    } catch (IOException e) {
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

  // ---- plumbing ----

  private CompletionStage<HttpResponse> withBody(
      HttpRequest request, Function<String, CompletionStage<HttpResponse>> handler) {
    return request
        .entity()
        .withSizeLimit(MAX_BODY)
        .toStrict(ASK_TIMEOUT.toMillis(), materializer)
        .thenCompose(body -> handler.apply(body.getData().utf8String()))
        .exceptionally(
            failure ->
                error(400, "bad-request", "could not read the body: " + failure.getMessage()));
  }

  private static CompletionStage<HttpResponse> get(
      String method, java.util.function.Supplier<CompletionStage<HttpResponse>> answer) {
    return method.equals("GET") ? answer.get() : done(error(405, "method-not-allowed", "use GET"));
  }

  private static CompletionStage<HttpResponse> notFound(String method, String path) {
    return done(error(404, "not-found", "no admin endpoint " + method + " " + PREFIX + path));
  }

  /**
   * An answer the admin API makes itself: its code in the body and, as on every such answer, in
   * {@code Slime-Error}.
   */
  static HttpResponse error(int status, String code, String detail) {
    return json(status, ordered("error", code, "detail", detail))
        .addHeader(RawHeader.create(SlimeHeaders.ERROR, code));
  }

  /** A JSON object with its fields in the order given: name, value, name, value. */
  private static Map<String, Object> ordered(Object... namesAndValues) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      out.put((String) namesAndValues[i], namesAndValues[i + 1]);
    }
    return out;
  }

  static HttpResponse json(int status, Object body) {
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
