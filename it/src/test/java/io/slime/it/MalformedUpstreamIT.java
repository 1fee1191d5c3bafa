package io.slime.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.slime.agent.Agents;
import io.slime.hub.Hub;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.LoggerFactory;

/**
 * An upstream whose answers break HTTP, as a buggy model server's do: each is the upstream's
 * failure (502 upstream-failed, "malformed response", never "unreachable"), it reaches the upstream
 * at most twice (the hub's one retry, none by the agent), it counts once per request towards
 * ejecting the agent, and it logs one WARN line without a stack trace.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MalformedUpstreamIT {
  /** Two lengths: the agent's own framing refuses it. */
  private static final String TWO_LENGTHS =
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nab";

  /** A reason phrase longer than Pekko's parser takes: Pekko refuses it. */
  private static final String LONG_REASON =
      "HTTP/1.1 200 " + "R".repeat(100) + "\r\nContent-Length: 2\r\n\r\nok";

  private static ScriptedUpstream upstream;
  private static Hub hub;
  private static Agents agents;

  @BeforeAll
  static void start() throws Exception {
    upstream =
        ScriptedUpstream.start()
            .on("/bad", answering(TWO_LENGTHS))
            .on("/pekko-bad", answering(LONG_REASON))
            .on("/hangs-up", (request, out, socket) -> false);
    // Three failures in a row eject an agent: low, so a test sees when it happens.
    hub = Slime.hub(Map.of("health.passive.failures", 3));
    // Two workers, so the hub's retry finds another worker of the same agent.
    agents = Slime.agent(hub, Slime.token("malformed"), upstream.address(), 2, "malformed");
    Slime.awaitWorkers(hub, 2, "/warm");
  }

  @AfterAll
  static void stop() {
    Slime.closeAll(agents, hub, upstream);
  }

  @Test
  @Order(1)
  void shouldAnswerUpstreamFailedAndReachTheUpstreamAtMostTwice() {
    for (String method : List.of("GET", "PUT", "DELETE")) {
      String path = "/bad-" + method.toLowerCase();
      HttpResponse<String> response =
          Client.send(
              Client.request(Slime.url(hub, path))
                  .method(method, HttpRequest.BodyPublishers.noBody())
                  .build());

      assertEquals(502, response.statusCode(), method + ": " + response.body());
      assertEquals("upstream-failed", Client.header(response, "Slime-Error"));
      assertTrue(response.body().contains("malformed response"), response.body());
      assertFalse(response.body().contains("unreachable"), response.body());
      assertEquals(2, upstream.count(path), method + " reached the upstream this many times");
      ok(); // a success between them: these failures are not in a row
    }
    HttpResponse<String> post =
        Client.send(
            Client.request(Slime.url(hub, "/bad-post"))
                .POST(HttpRequest.BodyPublishers.ofString("x"))
                .build());
    assertEquals(502, post.statusCode());
    assertEquals(1, upstream.count("/bad-post"), "a POST is never sent twice");
  }

  @Test
  @Order(2)
  void shouldTreatWhatPekkoRefusesTheSameWayAndLogOneWarningWithoutATrace() {
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    log.start();
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.addAppender(log);
    try {
      HttpResponse<String> response = Client.get(Slime.url(hub, "/pekko-bad"));
      assertEquals(502, response.statusCode(), response.body());
      assertEquals("upstream-failed", Client.header(response, "Slime-Error"));
      assertTrue(response.body().contains("malformed response"), response.body());
      assertEquals(2, upstream.count("/pekko-bad"));
      ok();
      Slime.sleep(500); // Pekko's own log lines are asynchronous
    } finally {
      root.detachAppender(log);
    }
    List<ILoggingEvent> events = log.list;
    for (ILoggingEvent e : events) {
      assertFalse(
          e.getLevel().isGreaterOrEqual(Level.ERROR),
          "logged an error: " + e.getFormattedMessage());
      if (e.getLevel() == Level.WARN) {
        assertNull(e.getThrowableProxy(), "a stack trace with " + e.getFormattedMessage());
      }
    }
    long warnings =
        events.stream()
            .filter(e -> e.getLevel() == Level.WARN)
            .filter(e -> e.getFormattedMessage().contains("malformed response"))
            .count();
    assertEquals(2, warnings, "one warning per malformed answer: " + events);
  }

  /** Last: it leaves the agent ejected. */
  @Test
  @Order(3)
  void shouldSayAnUpstreamHungUpWithoutAnsweringRatherThanThatItIsUnreachable() {
    HttpResponse<String> response =
        Client.send(
            Client.request(Slime.url(hub, "/hangs-up"))
                .POST(HttpRequest.BodyPublishers.ofString("x"))
                .build());

    assertEquals(502, response.statusCode(), response.body());
    assertEquals("upstream-failed", Client.header(response, "Slime-Error"));
    assertTrue(
        response.body().contains("closed the connection without answering"), response.body());
    assertFalse(response.body().contains("unreachable"), response.body());
    ok();
  }

  @Test
  @Order(4)
  void shouldNotEjectTheAgentFasterThanTheFailureCountSays() {
    ok();
    // Each is tried twice (the hub's retry), on the same agent: one failure each, two in a row.
    for (int i = 0; i < 2; i++) {
      assertEquals(502, Client.get(Slime.url(hub, "/bad-eject?" + i)).statusCode());
    }
    assertEquals(200, Client.get(Slime.url(hub, "/echo")).statusCode(), "ejected too soon");
    for (int i = 0; i < 3; i++) {
      assertEquals(502, Client.get(Slime.url(hub, "/bad-eject?" + i)).statusCode());
    }
    // The third in a row ejects it.
    HttpResponse<String> after = Client.get(Slime.url(hub, "/echo"));
    assertEquals(503, after.statusCode(), after.body());
    assertEquals("no-available-worker", Client.header(after, "Slime-Error"));
  }

  private static void ok() {
    HttpResponse<String> ok = Client.get(Slime.url(hub, "/echo"));
    assertEquals(200, ok.statusCode(), ok.body());
  }

  private static ScriptedUpstream.Script answering(String response) {
    return (request, out, socket) -> {
      out.write(ScriptedUpstream.bytes(response));
      return true;
    };
  }
}
