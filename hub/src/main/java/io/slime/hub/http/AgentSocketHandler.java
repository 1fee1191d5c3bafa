package io.slime.hub.http;

import io.slime.hub.dispatch.Dispatcher;
import io.slime.hub.model.Acceptance;
import io.slime.hub.model.ProxyError;
import io.slime.hub.model.WorkerProfile;
import io.slime.hub.replicated.RevokedTokens;
import io.slime.hub.worker.AgentWorker;
import io.slime.shared.agent.AgentTerms;
import io.slime.shared.agent.Labels;
import io.slime.shared.protocol.SlimeHeaders;
import io.slime.shared.token.AgentToken;
import io.slime.shared.token.InvalidTokenException;
import io.slime.shared.token.TokenCodec;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.WebSocketUpgrade;
import org.apache.pekko.stream.javadsl.Flow;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Agent worker connections at {@code /_slime/connect}: the token and the agent id are checked
 * before the upgrade, so a refused agent never gets a socket; an accepted one gets a worker actor.
 * Every refusal is a {@link ProxyError}, and every refused agent one WARN line. A plain GET with
 * the handshake's headers gets the same answer as the upgrade, up to the upgrade itself: that is
 * how an agent learns the reason (its WebSocket client keeps no body of a refused upgrade).
 *
 * <p>A worker's slot is (token, agent id, worker index): a token takes over the slots of its own
 * agent ids (an agent that restarts), never another token's, so holding a token is no way to knock
 * out or pass for another agent.
 */
final class AgentSocketHandler {
  private static final Logger log = LoggerFactory.getLogger(AgentSocketHandler.class);
  private static final Pattern AGENT_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(10);

  private final TokenCodec tokens;
  private final RevokedTokens revoked;
  private final ActorRef<Dispatcher.Command> dispatcher;
  private final int inlineBodyLimit;
  private final Duration cancelTimeout;
  private final Scheduler scheduler;

  AgentSocketHandler(
      TokenCodec tokens,
      RevokedTokens revoked,
      ActorRef<Dispatcher.Command> dispatcher,
      int inlineBodyLimit,
      Duration cancelTimeout,
      Scheduler scheduler) {
    this.tokens = tokens;
    this.revoked = revoked;
    this.dispatcher = dispatcher;
    this.inlineBodyLimit = inlineBodyLimit;
    this.cancelTimeout = cancelTimeout;
    this.scheduler = scheduler;
  }

  CompletionStage<HttpResponse> handle(HttpRequest request, String clientIp) {
    boolean upgrading = upgrading(request);
    AgentToken token;
    try {
      token = tokens.openValid(header(request, SlimeHeaders.AGENT_TOKEN).orElse(""), Instant.now());
    } catch (InvalidTokenException e) {
      logRefusal(upgrading, "Refused an agent connection from {}: {}", clientIp, e.reason());
      return refuse(ProxyError.AGENT_TOKEN_REFUSED, "agent token refused: " + e.reason());
    }
    if (revoked.contains(token.id())) {
      logRefusal(
          upgrading,
          "Refused an agent connection from {}: token {} ({}) is revoked",
          clientIp,
          token.id(),
          token.name());
      return refuse(ProxyError.AGENT_TOKEN_REFUSED, "agent token refused: revoked");
    }
    String agentId = header(request, SlimeHeaders.AGENT_ID).orElse("");
    int workerIndex;
    try {
      workerIndex = Integer.parseInt(header(request, SlimeHeaders.WORKER_INDEX).orElse("0"));
    } catch (NumberFormatException e) {
      workerIndex = -1;
    }
    if (!AGENT_ID.matcher(agentId).matches() || workerIndex < 0) {
      logRefusal(
          upgrading, "Refused an agent connection from {}: bad agent id or worker index", clientIp);
      return refuse(ProxyError.BAD_AGENT_HANDSHAKE, ProxyError.BAD_AGENT_HANDSHAKE.reason());
    }
    AgentTerms agentsOwn;
    try {
      agentsOwn = agentTerms(request);
    } catch (IllegalArgumentException e) {
      logRefusal(upgrading, "Refused an agent connection from {}: {}", clientIp, e.getMessage());
      return refuse(ProxyError.BAD_AGENT_HANDSHAKE, e.getMessage());
    }
    // The operator's word (the token) wins over what the agent says of itself.
    AgentTerms terms = token.terms().over(agentsOwn);
    WorkerProfile profile =
        new WorkerProfile(
            agentId,
            token.name(),
            workerIndex,
            token.id(),
            new Acceptance(token.scopes(), token.scopePaths(), terms.labels()),
            terms,
            clientIp,
            header(request, SlimeHeaders.AGENT_VERSION).orElse("unknown"));
    CompletionStage<Dispatcher.AgentIdAnswer> claim =
        AskPattern.ask(
            dispatcher,
            replyTo -> new Dispatcher.CheckAgentId(agentId, token.id(), replyTo),
            ASK_TIMEOUT,
            scheduler);
    return claim
        .thenCompose(answer -> upgrade(request, clientIp, profile, answer))
        .exceptionally(
            failure -> {
              log.warn("Agent connection from {} not set up: {}", clientIp, failure.toString());
              return ProxyError.AGENT_SOCKET_FAILED.response();
            });
  }

  /** Upgrades to a worker's socket, unless another token holds the agent id. */
  private CompletionStage<HttpResponse> upgrade(
      HttpRequest request,
      String clientIp,
      WorkerProfile profile,
      Dispatcher.AgentIdAnswer answer) {
    if (answer instanceof Dispatcher.AgentIdTaken taken) {
      logRefusal(
          upgrading(request),
          "Refused an agent connection from {}: agent id [{}] belongs to token [{}] ({}) at {};"
              + " token [{}] ({}) may not take its slots",
          clientIp,
          profile.agentId(),
          taken.tokenName(),
          taken.tokenId(),
          taken.node(),
          profile.agentName(),
          profile.tokenId());
      return refuse(
          ProxyError.AGENT_ID_TAKEN,
          "agent id "
              + profile.agentId()
              + " belongs to another token's workers; give this agent"
              + " its own --agentID");
    }
    // Checked last, so a plain GET with the handshake's headers learns any other refusal.
    Optional<WebSocketUpgrade> upgrade = request.getAttribute(AttributeKeys.webSocketUpgrade);
    if (upgrade.isEmpty()) {
      return refuse(ProxyError.BAD_AGENT_HANDSHAKE, "expected a WebSocket upgrade");
    }
    CompletionStage<Flow<Message, Message, NotUsed>> flow =
        AskPattern.ask(
            dispatcher,
            replyTo ->
                new Dispatcher.SpawnWorker(
                    profile,
                    new AgentWorker.WorkerSettings(
                        inlineBodyLimit, cancelTimeout, heartbeatOf(request)),
                    replyTo),
            ASK_TIMEOUT,
            scheduler);
    return flow.thenApply(f -> upgrade.get().handleMessagesWith(f));
  }

  private static boolean upgrading(HttpRequest request) {
    return request.getAttribute(AttributeKeys.webSocketUpgrade).isPresent();
  }

  /**
   * A refused upgrade is logged at WARN; the plain GET that follows it, by which the agent learns
   * the reason, only at DEBUG: one refusal, one line.
   */
  private static void logRefusal(boolean upgrading, String format, Object... arguments) {
    if (upgrading) {
      log.warn(format, arguments);
    } else {
      log.debug(format, arguments);
    }
  }

  /**
   * The weight, labels and limits the agent asks for in its handshake.
   *
   * @throws IllegalArgumentException naming the header that is malformed
   */
  private static AgentTerms agentTerms(HttpRequest request) {
    Integer weight = null;
    Long rpm = null;
    Long bpm = null;
    try {
      Optional<String> w = header(request, SlimeHeaders.AGENT_WEIGHT);
      if (w.isPresent()) {
        weight = Integer.parseInt(w.get().strip());
      }
      Optional<String> r = header(request, SlimeHeaders.AGENT_RPM);
      if (r.isPresent()) {
        rpm = Long.parseLong(r.get().strip());
      }
      Optional<String> b = header(request, SlimeHeaders.AGENT_BPM);
      if (b.isPresent()) {
        bpm = Long.parseLong(b.get().strip());
      }
      Map<String, String> labels =
          Labels.parse(header(request, SlimeHeaders.AGENT_LABELS).orElse(""));
      return new AgentTerms(weight, labels, rpm, bpm);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "malformed "
              + SlimeHeaders.AGENT_WEIGHT
              + ", "
              + SlimeHeaders.AGENT_RPM
              + " or "
              + SlimeHeaders.AGENT_BPM
              + ": whole numbers expected");
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("malformed agent terms: " + e.getMessage());
    }
  }

  /** The pace the agent's heartbeats come at (and the hub's go at), within sane bounds. */
  private static Duration heartbeatOf(HttpRequest request) {
    long millis;
    try {
      millis = Long.parseLong(header(request, SlimeHeaders.HEARTBEAT).orElse("10000"));
    } catch (NumberFormatException e) {
      millis = 10_000;
    }
    return Duration.ofMillis(Math.max(200, Math.min(millis, 600_000)));
  }

  private static Optional<String> header(HttpRequest request, String name) {
    return request.getHeader(name).map(HttpHeader::value);
  }

  private static CompletionStage<HttpResponse> refuse(ProxyError error, String reason) {
    return CompletableFuture.completedFuture(error.response(reason));
  }
}
