package io.slime.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.slime.agent.Agents;
import io.slime.hub.Hub;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A client that is slow to send cannot hold the hub: a head must arrive whole within
 * slime.hub.client-head-timeout, and a body that stops flowing for slime.hub.client-body-timeout is
 * given up, its worker free again at once (issue 10, point 3). Raw-socket clients, a raw-socket
 * upstream, one worker.
 */
class ClientTimeoutIT {
  private static final int SLOW_CLIENTS = 200;

  private static HangingUpstream upstream;
  private static Hub hub;
  private static Agents agents;

  @BeforeAll
  static void start() throws IOException {
    upstream = HangingUpstream.start();
    hub = Slime.hub(Map.of("client-head-timeout", "1s", "client-body-timeout", "1s"));
    agents = Slime.agent(hub, Slime.token("timeouts"), upstream.address(), 1, "timeouts");
    Slime.awaitWorkers(hub, 1, "/ready");
  }

  @AfterAll
  static void stop() {
    Slime.closeAll(agents, hub, upstream);
  }

  private static RawHttp connect() throws IOException {
    return RawHttp.connect(hub.address().getPort()).timeout(10_000);
  }

  private static byte[] ascii(String text) {
    return text.getBytes(StandardCharsets.US_ASCII);
  }

  private static void assertTimedOut(RawHttp.Response r) {
    assertEquals(408, r.status(), r.bodyText());
    assertEquals("request-timeout", r.header("Slime-Error"));
    assertEquals("close", r.header("Connection"));
  }

  @Test
  void shouldAnswer408ToAClientTricklingItsHead() throws Exception {
    long started = System.nanoTime();
    try (RawHttp raw = connect()) {
      raw.write(ascii("GET /trickle HTTP/1.1\r\nHost: h\r\nX-Slow: "));
      Thread trickler =
          new Thread(
              () -> {
                try {
                  for (int i = 0; i < 100; i++) {
                    raw.write(ascii("a"));
                    Thread.sleep(100);
                  }
                } catch (IOException | InterruptedException e) {
                  // The hub closed the connection: the trickle is over.
                }
              });
      trickler.start();
      assertTimedOut(raw.read());
      assertTrue(raw.closesWithoutMore());
      trickler.interrupt();
    }
    long seconds = (System.nanoTime() - started) / 1_000_000_000;
    assertTrue(seconds < 5, "took " + seconds + " s");
    assertFalse(upstream.targets().contains("/trickle"));
  }

  @Test
  void shouldNotHoldManySlowClients() throws Exception {
    List<RawHttp> clients = new ArrayList<>();
    try {
      for (int i = 0; i < SLOW_CLIENTS; i++) {
        RawHttp raw = connect();
        clients.add(raw);
        raw.write(ascii("GET /slow-" + i + " HTTP/1.1\r\nHo"));
      }
      long deadline = System.nanoTime() + 10_000_000_000L;
      for (RawHttp raw : clients) {
        raw.timeout((int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
        try {
          assertTimedOut(raw.read());
        } catch (SocketTimeoutException e) {
          fail("a slow client was still held after 10 s");
        }
      }
    } finally {
      Slime.closeAll(clients.toArray(AutoCloseable[]::new));
    }
    assertEquals(200, Client.get(Slime.url(hub, "/after-slow-clients")).statusCode());
  }

  @Test
  void shouldGiveUpAStalledUploadAndFreeItsWorker() throws Exception {
    try (RawHttp raw = connect()) {
      raw.write(ascii("POST /hang-upload HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000\r\n\r\n"));
      raw.write(new byte[1000]);
      assertTimedOut(raw.read());
      assertTrue(raw.closesWithoutMore());
    }
    assertEquals("/hang-upload", upstream.awaitAbort(5000), "the upstream did not see it leave");
    // One worker, asked without Slime-Block: only an idle worker can serve this.
    long deadline = System.nanoTime() + 1_000_000_000L;
    int status;
    do {
      status = Client.get(Slime.url(hub, "/after-stall")).statusCode();
    } while (status != 200 && System.nanoTime() < deadline);
    assertEquals(200, status, "the worker was not idle again within 1 s");
  }
}
