package io.slime.hub.admin;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import io.slime.hub.dispatch.Dispatcher;
import io.slime.hub.dispatch.NodeView;
import io.slime.hub.metrics.MetricsEndpoint;
import io.slime.hub.model.ProxyError;
import io.slime.hub.replicated.AgentControl;
import io.slime.hub.replicated.AgentControls;
import io.slime.hub.replicated.Revocations;
import io.slime.hub.replicated.SharedState;
import io.slime.hub.stats.TrafficSnapshot;
import io.slime.hub.tls.ServerCertificate;
import io.slime.shared.token.AgentToken;
import io.slime.shared.token.InvalidTokenException;
import io.slime.shared.token.TokenCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.AttributeKey;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.japi.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin endpoints under {@code /_slime/api/v1/}, and the pool summary at {@code
 * /_slime/status}: JSON, and (but for the summary, unless configured) only for a request that
 * carries {@code Authorization: Bearer <admin token>}. Without an admin token configured the API
 * does not exist (404 reserved-path), so a hub never exposes it by accident. Every answer is the
 * same from any node: views are gathered from all of them, and changes go to all of them. Each path
 * answers 405 to a method it does not take, and any other path 404, both with the JSON error body
 * every admin error has.
 */
public final class AdminRoutes extends AllDirectives {
  public static final String PREFIX = "/_slime/api/v1/";
  public static final String STATUS_PATH = "/_slime/status";

  private static final Logger log = LoggerFactory.getLogger(AdminRoutes.class);
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(5);

  /** The client's address as the front door resolved it, for the log of a refused request. */
  private static final AttributeKey<String> CLIENT_IP =
      AttributeKey.create("slime-client-ip", String.class);

  private static final JsonBody.Shape REVOCATION =
      new JsonBody.Shape("send {\"token\": \"...\"} or {\"id\": 123}", "");

  /** The body of {@code POST /tokens/revoke}: a token given whole, or a token id. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  record Revocation(JsonNode token, JsonNode id) {}

  private final AdminAuth auth;
  private final boolean statusNeedsToken;
  private final TokenCodec tokens;
  private final SharedState shared;
  private final ActorSystem<?> system;
  private final ClusterGather gather;
  private final Map<String, Object> effectiveConfig;
  private final Function<HttpRequest, CompletionStage<HttpResponse>> handler;

  /** The port's certificate, or null without TLS. */
  private final ServerCertificate certificate;

  private final MetricsEndpoint metrics;
  private final boolean metricsNeedToken;

  public AdminRoutes(
      String adminToken,
      boolean statusNeedsToken,
      Config config,
      TokenCodec tokens,
      ActorRef<Dispatcher.Command> dispatcher,
      SharedState shared,
      ActorSystem<?> system,
      ServerCertificate certificate,
      MetricsEndpoint metrics,
      boolean metricsNeedToken) {
    this.certificate = certificate;
    this.metrics = metrics;
    this.metricsNeedToken = metricsNeedToken;
    this.auth = new AdminAuth(adminToken);
    this.statusNeedsToken = statusNeedsToken;
    this.tokens = tokens;
    this.shared = shared;
    this.system = system;
    this.gather = new ClusterGather(dispatcher, shared.controls(), system);
    this.effectiveConfig = EffectiveConfig.of(config);
    this.handler = route().seal().handler(system);
  }

  /** Answers a request for {@link #STATUS_PATH} or under {@link #PREFIX} from {@code clientIp}. */
  public CompletionStage<HttpResponse> handle(HttpRequest request, String clientIp) {
    try {
      return handler.apply(request.addAttribute(CLIENT_IP, clientIp));
    } catch (Exception e) {
      return CompletableFuture.failedStage(e);
    }
  }

  static String clientIp(HttpRequest request) {
    return request.getAttribute(CLIENT_IP).orElse("an unknown client");
  }

  /** The status summary and the API, for requests the front door gives it. */
  Route route() {
    return concat(
        path(segment("_slime").slash("status"), this::status),
        path(segment("_slime").slash("metrics"), this::metrics),
        pathPrefix(segment("_slime").slash("api").slash("v1"), this::api));
  }

  /** {@code GET /_slime/status}, or any method: workers, idle, busy and waiting in the cluster. */
  private Route status() {
    Supplier<Route> summary =
        () ->
            JsonBody.discarded(() -> onSuccess(gather.pool(), pool -> AdminJson.ok(summary(pool))));
    return statusNeedsToken ? auth.authorized(summary) : summary.get();
  }

  /** {@code GET /_slime/metrics}, or any method: this node's metrics for Prometheus. */
  private Route metrics() {
    Supplier<Route> scrape =
        () -> JsonBody.discarded(() -> onSuccess(metrics.scrape(), this::complete));
    return metricsNeedToken ? auth.authorized(scrape) : scrape.get();
  }

  private Route api() {
    if (!auth.configured()) {
      return JsonBody.discarded(() -> complete(ProxyError.RESERVED_PATH.response()));
    }
    return auth.authorized(
        () ->
            concat(
                // The two endpoints that read a body come first; every other drops it unread.
                put(() -> path(segment("agents").slash(segment()), this::update)),
                post(() -> path(segment("tokens").slash("revoke"), this::revoke)),
                JsonBody.discarded(
                    () ->
                        concat(
                            path("agents", () -> concat(get(this::agents), useInstead("use GET"))),
                            path(
                                segment("agents").slash(segment()),
                                id ->
                                    concat(
                                        get(() -> agent(id)),
                                        useInstead("GET shows the agent, PUT changes it"))),
                            path(
                                segment("agents").slash(segment()).slash("drain"),
                                id ->
                                    concat(
                                        post(() -> drain(id, true)),
                                        delete(() -> drain(id, false)),
                                        useInstead("POST starts a drain, DELETE ends it"))),
                            path(
                                segment("agents").slash(segment()).slash("disconnect"),
                                id -> concat(post(() -> disconnect(id)), useInstead("use POST"))),
                            path("stats", () -> concat(get(this::stats), useInstead("use GET"))),
                            path(
                                segment("stats").slash("agents").slash(segment()),
                                id -> concat(get(() -> agentStats(id)), useInstead("use GET"))),
                            path(
                                "config",
                                () ->
                                    concat(
                                        get(() -> AdminJson.ok(effectiveConfig)),
                                        useInstead("use GET"))),
                            path(
                                "cluster", () -> concat(get(this::cluster), useInstead("use GET"))),
                            path(
                                segment("tls").slash("reload"),
                                () -> concat(post(this::tlsReload), useInstead("use POST"))),
                            noSuchEndpoint()))));
  }

  private static Route useInstead(String methods) {
    return AdminJson.error(ProxyError.METHOD_NOT_ALLOWED, methods);
  }

  private Route noSuchEndpoint() {
    return extractRequest(
        request ->
            AdminJson.error(
                ProxyError.NOT_FOUND,
                "no admin endpoint " + request.method().value() + " " + request.getUri().path()));
  }

  private static Route noSuchAgent(String agentId) {
    return AdminJson.error(ProxyError.NOT_FOUND, "no agent with id " + agentId + " is connected");
  }

  /** {@code POST /tls/reload}: reads this node's certificate files again (each node its own). */
  private Route tlsReload() {
    if (certificate == null) {
      return AdminJson.error(ProxyError.NOT_FOUND, "TLS is off: this hub runs without --tlsCert");
    }
    ServerCertificate.Reload reload = certificate.reload();
    return reload instanceof ServerCertificate.Refused
        ? AdminJson.answer(ProxyError.BAD_CERTIFICATE, reload.json())
        : AdminJson.ok(reload.json());
  }

  // ---- agents ----

  private Route agents() {
    return onSuccess(
        gather.views(),
        gathered -> {
          List<AdminViews.Agent> agents = new ArrayList<>();
          AgentViews.byAgent(gathered.views())
              .forEach((id, parts) -> agents.add(AgentViews.agent(parts, gathered.control(id))));
          return AdminJson.ok(new AdminViews.Agents(agents, gathered.missing()));
        });
  }

  private Route agent(String agentId) {
    return onSuccess(
        gather.views(),
        gathered ->
            gathered.agent(agentId).map(AdminJson::ok).orElseGet(() -> noSuchAgent(agentId)));
  }

  /**
   * {@code PUT /agents/{id}} with any of {@code weight}, {@code rpm}, {@code bpm} (null clears the
   * override) and {@code draining}. It holds on every node, and for the agent's future workers too.
   */
  private Route update(String agentId) {
    return JsonBody.read(
        AgentUpdate.Body.class,
        AgentUpdate.SHAPE,
        body -> {
          AgentUpdate update;
          try {
            update = AgentUpdate.of(body);
          } catch (IllegalArgumentException e) {
            return JsonBody.bad(e.getMessage());
          }
          log.info(
              "Changing agent id [{}]: {}",
              agentId,
              AdminJson.MAPPER.valueToTree(update.asFields()));
          return onSuccess(
              changeControl(agentId, update::applyTo),
              control ->
                  AdminJson.ok(
                      new AdminViews.AgentChanged(agentId, AdminViews.Overrides.of(control))));
        });
  }

  /** Starts or ends draining an agent on every node. */
  private Route drain(String agentId, boolean on) {
    log.info("{} agent id [{}]", on ? "Draining" : "No longer draining", agentId);
    return onSuccess(
        changeControl(agentId, c -> new AgentControl(c.weight(), c.rpm(), c.bpm(), on)),
        control -> AdminJson.ok(new AdminViews.Drain(agentId, on)));
  }

  private Route disconnect(String agentId) {
    log.info("Disconnecting agent id [{}]", agentId);
    return onSuccess(
        gather.disconnect(agentId),
        closed ->
            closed == 0
                ? noSuchAgent(agentId)
                : AdminJson.ok(new AdminViews.Disconnected(agentId, closed)));
  }

  private CompletionStage<AgentControl> changeControl(
      String agentId, UnaryOperator<AgentControl> change) {
    return AskPattern.<AgentControls.Command, AgentControl>ask(
        shared.controls(),
        replyTo -> new AgentControls.Change(agentId, change, replyTo),
        ASK_TIMEOUT,
        system.scheduler());
  }

  // ---- stats and the cluster ----

  private Route stats() {
    return onSuccess(
        gather.views(),
        gathered -> {
          TrafficSnapshot total = TrafficSnapshot.empty();
          int waiting = 0;
          List<AdminViews.NodeStats> nodes = new ArrayList<>();
          for (NodeView view : gathered.views()) {
            total = total.plus(view.traffic());
            waiting += view.waiting();
            nodes.add(
                new AdminViews.NodeStats(view.node(), view.waiting(), view.traffic().requests()));
          }
          return AdminJson.ok(
              new AdminViews.Stats(
                  AgentViews.byAgent(gathered.views()).size(),
                  waiting,
                  AdminViews.Traffic.of(total),
                  nodes,
                  gathered.missing()));
        });
  }

  private Route agentStats(String agentId) {
    return onSuccess(
        gather.views(),
        gathered ->
            gathered
                .agent(agentId)
                .map(
                    agent ->
                        AdminJson.ok(
                            new AdminViews.AgentStats(
                                agentId,
                                agent.state(),
                                agent.inFlight(),
                                agent.usage(),
                                agent.counters())))
                .orElseGet(() -> noSuchAgent(agentId)));
  }

  /** Members of the cluster with their workers, the same from any node. */
  private Route cluster() {
    return onSuccess(
        gather.pool(),
        pool -> {
          List<AdminViews.Member> members = new ArrayList<>();
          for (Dispatcher.NodePool node : pool.nodes()) {
            members.add(
                new AdminViews.Member(
                    node.address(),
                    node.status(),
                    node.self(),
                    node.workers(),
                    node.idle(),
                    node.workers() - node.idle(),
                    node.waiting()));
          }
          return AdminJson.ok(new AdminViews.Cluster(members));
        });
  }

  private static AdminViews.Status summary(Dispatcher.PoolView pool) {
    int workers = 0;
    int idle = 0;
    int waiting = 0;
    for (Dispatcher.NodePool node : pool.nodes()) {
      workers += node.workers();
      idle += node.idle();
      waiting += node.waiting();
    }
    return new AdminViews.Status(
        pool.nodes().size(), pool.agents(), workers, idle, workers - idle, waiting);
  }

  // ---- tokens ----

  /**
   * Revokes a token given whole ({@code {"token": "..."}}) or by id ({@code {"id": 123}}). Every
   * node refuses it from then on, and its live workers are disconnected.
   */
  private Route revoke() {
    return JsonBody.read(
        Revocation.class,
        REVOCATION,
        body -> {
          long id;
          String name = null;
          if (body != null && body.token() != null && !body.token().isNull()) {
            try {
              AgentToken revoked = tokens.open(body.token().asText());
              id = revoked.id();
              name = revoked.name();
            } catch (InvalidTokenException e) {
              return AdminJson.error(
                  ProxyError.BAD_TOKEN, "not a token of this hub: " + e.reason());
            }
          } else if (body != null
              && body.id() != null
              && !body.id().isNull()
              && body.id().canConvertToLong()) {
            id = body.id().asLong();
          } else {
            return JsonBody.bad(REVOCATION.expected());
          }
          long tokenId = id;
          String tokenName = name;
          log.info("Revoking token {}{}", tokenId, tokenName == null ? "" : " (" + tokenName + ")");
          return onSuccess(
              AskPattern.<Revocations.Command, Done>ask(
                  shared.revocations(),
                  replyTo -> new Revocations.Revoke(tokenId, replyTo),
                  ASK_TIMEOUT,
                  system.scheduler()),
              done -> AdminJson.ok(new AdminViews.Revoked(tokenId, tokenName)));
        });
  }
}
