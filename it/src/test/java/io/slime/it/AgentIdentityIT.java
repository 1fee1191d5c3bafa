package io.slime.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.slime.hub.Hub;
import io.slime.shared.protocol.SlimeHeaders;
import io.slime.shared.token.TokenCodec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * An agent id belongs to the token whose workers hold it: another token that claims it is refused
 * before the upgrade, while the same token (an agent that restarts) still takes its slots over.
 * Each test has its own hub and two raw-socket upstreams, so where a request lands tells which
 * agent served it.
 */
class AgentIdentityIT {
  private static final String AGENT_ID = "shared-gpu";

  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private final Logger slimeLogger = (Logger) LoggerFactory.getLogger("io.slime");
  private Hub hub;
  private HeaderRecordingUpstream first;
  private HeaderRecordingUpstream second;
  private final List<AutoCloseable> started = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    logs.start();
    slimeLogger.addAppender(logs);
    first = HeaderRecordingUpstream.start();
    second = HeaderRecordingUpstream.start();
    hub = Slime.hub();
  }

  @AfterEach
  void stop() {
    started.forEach(Slime::closeAll);
    Slime.closeAll(hub, first, second);
    slimeLogger.detachAppender(logs);
  }

  @Test
  void shouldRefuseAnotherTokensAgentIdWith409AndKeepServingTheFirst() throws Exception {
    String ownerToken = Slime.token("owner");
    String intruderToken = Slime.token("intruder");
    started.add(Slime.agent(hub, ownerToken, first.address(), 1, AGENT_ID));
    Slime.awaitWorkers(hub, 1, "/ready");

    // The upgrade, as an agent's WebSocket client makes it: refused, so no worker is replaced.
    CompletableFuture<WebSocket> upgrade = connect(intruderToken, new WebSocket.Listener() {});
    CompletionException refused = assertThrows(CompletionException.class, upgrade::join);
    if (!(refused.getCause() instanceof WebSocketHandshakeException handshake)) {
      throw refused;
    }
    assertEquals(409, handshake.getResponse().statusCode());
    // The same headers on a plain GET, as the agent asks for the reason.
    HttpResponse<String> reason =
        Client.get(
            Slime.url(hub, SlimeHeaders.CONNECT_PATH),
            SlimeHeaders.AGENT_TOKEN,
            intruderToken,
            SlimeHeaders.AGENT_ID,
            AGENT_ID,
            SlimeHeaders.WORKER_INDEX,
            "0");
    assertEquals(409, reason.statusCode());
    assertEquals("agent-id-taken", Client.header(reason, "Slime-Error"));
    assertTrue(reason.body().contains("agent id " + AGENT_ID), reason.body());
    // One refusal, one WARN line: the GET asking why is answered but not logged again.
    awaitCount(AgentIdentityIT::hubRefusal, 1);
    assertEquals(1, count(AgentIdentityIT::hubRefusal));

    // A real agent with that token and id: refused each time, says so once, keeps backing off.
    started.add(Slime.agent(hub, intruderToken, second.address(), 1, AGENT_ID));
    Predicate<ILoggingEvent> agentSays409 =
        e -> e.getFormattedMessage().contains("refused the worker: 409");
    String agentSaid = awaitCount(agentSays409, 1).getFormattedMessage();
    assertTrue(agentSaid.contains("belongs to another token"), agentSaid);
    // Its next attempt (upgrade and reason) is refused too, and logged once by the hub, not the
    // agent.
    awaitCount(AgentIdentityIT::hubRefusal, count(AgentIdentityIT::hubRefusal) + 1);
    assertEquals(1, count(agentSays409));

    first.clear();
    for (int i = 0; i < 5; i++) {
      HttpResponse<String> r = Client.get(Slime.url(hub, "/after-" + i));
      assertEquals(200, r.statusCode(), r.body());
      assertEquals("owner", Client.header(r, "Slime-Agent"));
      assertNotNull(first.next(5_000), "request " + i + " did not reach the owner's upstream");
    }
    assertNull(second.next(0), "the intruder's upstream got a request");

    long ownerId = tokenId(ownerToken);
    long intruderId = tokenId(intruderToken);
    String line = awaitCount(AgentIdentityIT::hubRefusal, 1).getFormattedMessage();
    for (String named : List.of(AGENT_ID, "owner", "intruder", "" + ownerId, "" + intruderId)) {
      assertTrue(line.contains(named), "the hub's line names " + named + ": " + line);
    }
    for (ILoggingEvent e : snapshot()) {
      String text = e.getFormattedMessage();
      assertFalse(
          text.contains(ownerToken) || text.contains(intruderToken), "a token logged: " + text);
    }
  }

  @Test
  void shouldLetTheSameTokenTakeOverItsOwnSlotsAsARestartedAgentDoes() throws Exception {
    String token = Slime.token("restarting");
    // The old process's worker, still connected as far as the hub knows.
    CompletableFuture<Void> staleClosed = new CompletableFuture<>();
    WebSocket stale =
        connect(
                token,
                new WebSocket.Listener() {
                  @Override
                  public CompletionStage<?> onClose(WebSocket ws, int status, String why) {
                    staleClosed.complete(null);
                    return null;
                  }

                  @Override
                  public void onError(WebSocket ws, Throwable error) {
                    staleClosed.complete(null);
                  }
                })
            .join();
    started.add(() -> stale.abort());

    started.add(Slime.agent(hub, token, second.address(), 1, AGENT_ID));

    staleClosed.get(10, TimeUnit.SECONDS);
    Slime.awaitWorkers(hub, 1, "/ready");
    HttpResponse<String> r = Client.get(Slime.url(hub, "/restarted"));
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("restarting", Client.header(r, "Slime-Agent"));
  }

  @Test
  void shouldRetryARefusedTokenOnlyEveryMinuteAndSaySo() throws Exception {
    String expired = Slime.token(Slime.SECRET, "lapsed", Instant.now().minusSeconds(60));
    started.add(Slime.agent(hub, expired, first.address(), 1, "lapsed-agent"));

    Predicate<ILoggingEvent> agentSays =
        e -> e.getFormattedMessage().contains("the token will not work until it is replaced");
    String said = awaitCount(agentSays, 1).getFormattedMessage();
    assertTrue(said.contains("401 agent token refused: token expired at"), said);
    assertTrue(said.contains("retrying every 60 s"), said);
    Predicate<ILoggingEvent> hubRefused =
        e ->
            e.getLoggerName().endsWith("AgentSocketHandler")
                && e.getLevel() == Level.WARN
                && e.getFormattedMessage().contains("token expired at");
    awaitCount(hubRefused, 1);
    // A network fault is retried after 200 ms, 400 ms, 800 ms...: a refused token is not.
    Slime.sleep(1_500);
    assertEquals(1, count(hubRefused), "attempts in 1.5 s");
  }

  @Test
  void shouldNameEveryRefusalOfTheAgentSocketInSlimeError() {
    String token = Slime.token("refused");
    assertRefused(401, "agent-token-refused", "garbage", AGENT_ID, "0");
    assertRefused(400, "bad-agent-handshake", token, "no spaces allowed", "0");
    assertRefused(400, "bad-agent-handshake", token, AGENT_ID, "-1");
    // Everything right but the upgrade itself, as the agent's own probe for a reason sends it.
    assertRefused(400, "bad-agent-handshake", token, AGENT_ID, "0");
  }

  private void assertRefused(int status, String code, String token, String agentId, String index) {
    HttpResponse<String> r =
        Client.get(
            Slime.url(hub, SlimeHeaders.CONNECT_PATH),
            SlimeHeaders.AGENT_TOKEN,
            token,
            SlimeHeaders.AGENT_ID,
            agentId,
            SlimeHeaders.WORKER_INDEX,
            index);
    assertEquals(status, r.statusCode(), r.body());
    assertEquals(code, Client.header(r, "Slime-Error"), r.body());
  }

  private CompletableFuture<WebSocket> connect(String token, WebSocket.Listener listener) {
    return HttpClient.newHttpClient()
        .newWebSocketBuilder()
        .header(SlimeHeaders.AGENT_TOKEN, token)
        .header(SlimeHeaders.AGENT_ID, AGENT_ID)
        .header(SlimeHeaders.WORKER_INDEX, "0")
        .buildAsync(
            URI.create("ws://" + Slime.hubAddress(hub) + SlimeHeaders.CONNECT_PATH), listener);
  }

  private static boolean hubRefusal(ILoggingEvent e) {
    return e.getLoggerName().endsWith("AgentSocketHandler")
        && e.getLevel() == Level.WARN
        && e.getFormattedMessage().contains("agent id [" + AGENT_ID + "]");
  }

  private static long tokenId(String token) throws Exception {
    return TokenCodec.forSecret(Slime.SECRET).openValid(token, Instant.now()).id();
  }

  private List<ILoggingEvent> snapshot() {
    synchronized (logs) {
      return new ArrayList<>(logs.list);
    }
  }

  private int count(Predicate<ILoggingEvent> which) {
    return (int) snapshot().stream().filter(which).count();
  }

  /** The {@code n}th log event that matches, waiting up to 10 s for it. */
  private ILoggingEvent awaitCount(Predicate<ILoggingEvent> which, int n) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      List<ILoggingEvent> matching = snapshot().stream().filter(which).toList();
      if (matching.size() >= n) {
        return matching.get(n - 1);
      }
      Slime.sleep(20);
    }
    return fail("fewer than " + n + " such log lines within 10 s: " + snapshot());
  }
}
