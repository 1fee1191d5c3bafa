package io.slime.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slime.agent.Agents;
import io.slime.hub.Hub;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Upstreams that accept a request and then go silent: before the head, inside a short body, in the
 * middle of a streamed one. The agent's timeouts end each, and the worker is free at once.
 */
class UpstreamTimeoutIT {
  private static ScriptedUpstream upstream;
  private static Hub hub;
  private static Agents agents;

  @BeforeAll
  static void start() throws Exception {
    upstream =
        ScriptedUpstream.start()
            .on("/silent", (request, out, socket) -> waitForClose(socket.getInputStream()))
            // Promises 100 bytes, sends 10 (inside the inline limit) and stalls.
            .on(
                "/short",
                (request, out, socket) -> {
                  out.write(
                      ScriptedUpstream.bytes(
                          "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"));
                  out.flush();
                  return waitForClose(socket.getInputStream());
                })
            // No length: the body would run until the upstream closes, which it never does.
            .on(
                "/endless",
                (request, out, socket) -> {
                  out.write(ScriptedUpstream.bytes("HTTP/1.1 200 OK\r\n\r\nfirst words"));
                  out.flush();
                  return waitForClose(socket.getInputStream());
                });
    hub = Slime.hub();
    agents =
        Slime.agent(
            hub,
            Slime.token("timeouts"),
            upstream.address(),
            "timeouts",
            Map.of("response-timeout", "1s", "response-body-idle-timeout", "1s"));
    Slime.awaitWorkers(hub, 1, "/warm");
  }

  @AfterAll
  static void stop() {
    Slime.closeAll(agents, hub, upstream);
  }

  @BeforeEach
  void clear() {
    upstream.clear();
  }

  @Test
  void shouldAnswer504WhenTheUpstreamSendsNoHead() throws Exception {
    long started = System.nanoTime();
    HttpResponse<String> response = Client.get(Slime.url(hub, "/silent"));
    long ms = (System.nanoTime() - started) / 1_000_000;

    assertEquals(504, response.statusCode(), response.body());
    assertEquals("upstream-timeout", Client.header(response, "Slime-Error"));
    assertTrue(response.body().contains("no response head"), response.body());
    assertTrue(ms < 5000, "answered after " + ms + " ms");
    assertEquals("/silent", upstream.awaitClose(2000), "the upstream connection stays open");
    assertEquals(1, upstream.count("/silent"), "a timed-out request was sent again");
    assertWorkerFreeAtOnce();
  }

  @Test
  void shouldAnswer504WhenAShortBodyStops() throws Exception {
    HttpResponse<String> response = Client.get(Slime.url(hub, "/short"));

    assertEquals(504, response.statusCode(), response.body());
    assertEquals("upstream-timeout", Client.header(response, "Slime-Error"));
    assertEquals("/short", upstream.awaitClose(2000), "the upstream connection stays open");
    assertWorkerFreeAtOnce();
  }

  @Test
  void shouldCutAStreamedBodyThatStops() throws Exception {
    try (RawHttp app = RawHttp.connect(hub.address().getPort())) {
      app.send("GET", "/endless");
      RawHttp.Response head = app.readHead();
      assertEquals(200, head.status());
      assertEquals("chunked", head.header("Transfer-Encoding"));
      String size = app.readLine();
      assertEquals("first words", app.readLine());
      assertEquals(Integer.toHexString("first words".length()), size);
      // Then the body ends without its last chunk: the connection closes (or is reset).
      try {
        assertNull(app.readLine(), "the body went on");
      } catch (java.net.SocketException reset) {
        assertTrue(reset.getMessage().contains("reset"), reset.getMessage());
      }
    }
    assertEquals("/endless", upstream.awaitClose(2000), "the upstream connection stays open");
    assertWorkerFreeAtOnce();
  }

  private static void assertWorkerFreeAtOnce() {
    long started = System.nanoTime();
    HttpResponse<String> next = Client.get(Slime.url(hub, "/echo?after"), "Slime-Block", "1");
    long ms = (System.nanoTime() - started) / 1_000_000;
    assertEquals(200, next.statusCode(), next.body());
    assertEquals("/echo?after", next.body());
    assertTrue(ms < 1000, "the worker was free only after " + ms + " ms");
  }

  /** Holds the connection without answering until the agent closes it. */
  private static boolean waitForClose(InputStream in) {
    try {
      while (in.read() >= 0) {
        // Nothing more should come.
      }
    } catch (IOException e) {
      // Reset rather than closed: closed all the same.
    }
    return false;
  }
}
