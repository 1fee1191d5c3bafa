package io.slime.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.slime.agent.Agents;
import io.slime.hub.Hub;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Request heads are checked byte by byte before the hub's HTTP parser reads them, and every refusal
 * (the guard's or Pekko's) is answered in order, with a Slime-Error and Connection: close (issue
 * 10, points 4 and 9). Raw sockets on both sides: a raw client, a recording upstream.
 */
class HeadGuardIT {
  private static final String SMUGGLING =
      "POST /smuggle HTTP/1.1\r\nHost: h\r\nContent-Length: 27\r\nX-L: a\u00e9\r\n\r\n"
          + "X-Injected-From-Body: 1\r\n\r\n"
          + "GET /smuggle-next HTTP/1.1\r\nHost: h\r\n\r\n";

  private static RecordingUpstream upstream;
  private static Hub hub;
  private static Agents agents;

  @BeforeAll
  static void start() throws IOException {
    upstream = RecordingUpstream.start();
    hub = Slime.hub();
    agents = Slime.agent(hub, Slime.token("guarded"), upstream.address(), 1, "guarded");
    Slime.awaitWorkers(hub, 1, "/ready");
  }

  @AfterAll
  static void stop() {
    Slime.closeAll(agents, hub, upstream);
  }

  private static int port() {
    return hub.address().getPort();
  }

  private static byte[] latin1(String text) {
    return text.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static List<String> targetsReceived() {
    return upstream.received().stream().map(RecordingUpstream.Received::target).toList();
  }

  private static void assertRefused(RawHttp.Response r, int status, String code) {
    assertEquals(status, r.status(), r.bodyText());
    assertEquals(code, r.header("Slime-Error"), r.bodyText());
    assertEquals("close", r.header("Connection"));
  }

  /** The hub still serves: a plain request reaches the upstream and comes back. */
  private static void assertServing(String target) {
    assertEquals(200, Client.get(Slime.url(hub, target)).statusCode());
    assertTrue(targetsReceived().contains(target));
  }

  @Test
  void shouldRefuseAHeaderSmuggledOutOfABody() throws Exception {
    try (RawHttp raw = RawHttp.connect(port())) {
      raw.write(latin1(SMUGGLING));
      RawHttp.Response r = raw.read();
      assertRefused(r, 400, "bad-header");
      assertTrue(r.bodyText().contains("0xE9"), r.bodyText());
      assertTrue(raw.closesWithoutMore());
    }
    assertServing("/after-smuggling");
    assertFalse(targetsReceived().stream().anyMatch(t -> t.startsWith("/smuggle")));
    assertFalse(
        upstream.received().stream().anyMatch(r -> r.headText().contains("X-Injected")),
        "the body's line reached the upstream as a header");
  }

  @Test
  void shouldAnswerTheRequestsBeforeARefusedHeadInOrder() throws Exception {
    try (RawHttp raw = RawHttp.connect(port())) {
      raw.write(
          latin1(
              "GET /order-1 HTTP/1.1\r\nHost: h\r\n\r\n"
                  + "GET /order-2 HTTP/1.1\r\nHost: h\r\n\r\n"
                  + "GET /order-bad HTTP/1.1\r\nHost: h\r\nX: \u0001\r\n\r\n"
                  + "GET /order-never HTTP/1.1\r\nHost: h\r\n\r\n"));
      assertEquals("ok\n", raw.read().bodyText());
      assertEquals("ok\n", raw.read().bodyText());
      assertRefused(raw.read(), 400, "bad-header");
      assertTrue(raw.closesWithoutMore());
    }
    List<String> targets = targetsReceived();
    assertTrue(targets.indexOf("/order-1") < targets.indexOf("/order-2"), targets.toString());
    assertFalse(targets.contains("/order-bad") || targets.contains("/order-never"));
  }

  @Test
  void shouldRefuseABrokenChunkedRequestAndReadNothingAfterIt() throws Exception {
    try (RawHttp raw = RawHttp.connect(port())) {
      raw.write(
          latin1(
              "GET /chunk-first HTTP/1.1\r\nHost: h\r\n\r\n"
                  + "POST /chunk-broken HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                  + "5\r\nabcde\r\nZZ\r\n0\r\n\r\n"
                  + "GET /chunk-never HTTP/1.1\r\nHost: h\r\n\r\n"));
      assertEquals("ok\n", raw.read().bodyText());
      assertRefused(raw.read(), 400, "bad-framing");
      assertTrue(raw.closesWithoutMore());
    }
    List<String> targets = targetsReceived();
    assertTrue(targets.contains("/chunk-first"));
    assertFalse(
        targets.contains("/chunk-broken") || targets.contains("/chunk-never"), targets.toString());
    assertServing("/after-chunks");
  }

  @Test
  void shouldRefuseFramingThatCouldBeReadTwoWays() throws Exception {
    try (RawHttp raw = RawHttp.connect(port())) {
      raw.write(
          latin1(
              "POST /two-ways HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n"
                  + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
      assertRefused(raw.read(), 400, "bad-framing");
      assertTrue(raw.closesWithoutMore());
    }
    assertFalse(targetsReceived().contains("/two-ways"));
  }

  @Test
  void shouldAnswerPekkosOwnRefusalsWithSlimeError() throws Exception {
    assertPekkoRefusal(
        "GET /" + "a".repeat(3000) + " HTTP/1.1\r\nHost: h\r\n\r\n", 414, "uri-too-long");
    assertPekkoRefusal(
        "GET /big HTTP/1.1\r\nHost: h\r\nX-Big: " + "v".repeat(9000) + "\r\n\r\n",
        431,
        "headers-too-large");
    assertPekkoRefusal("FROB /frob HTTP/1.1\r\nHost: h\r\n\r\n", 501, "not-implemented");
    assertPekkoRefusal("GET /no-host HTTP/1.1\r\n\r\n", 400, "bad-request");
    assertPekkoRefusal("GET /v HTTP/1.2\r\nHost: h\r\n\r\n", 505, "http-version-not-supported");
    assertFalse(targetsReceived().contains("/no-host"));
  }

  private static void assertPekkoRefusal(String request, int status, String code) throws Exception {
    try (RawHttp raw = RawHttp.connect(port())) {
      raw.write(latin1(request + "GET /refusal-never HTTP/1.1\r\nHost: h\r\n\r\n"));
      assertRefused(raw.read(), status, code);
      assertTrue(raw.closesWithoutMore(), code);
    }
    assertFalse(targetsReceived().contains("/refusal-never"), code);
  }

  /**
   * HAProxy, set up as config/cluster/haproxy.cfg, takes the header's line as body: the hub does
   * not.
   */
  @Test
  void shouldRefuseTheSmugglingBytesBehindHaproxy() throws Exception {
    assumeTrue(onPath("haproxy"), "haproxy is not installed");
    int balancer = Slime.freePort();
    Path dir = Files.createTempDirectory("slime-haproxy");
    Path config = dir.resolve("haproxy.cfg");
    Files.writeString(
        config,
        String.join(
            "\n",
            "defaults",
            "  mode http",
            "  timeout connect 2s",
            "  timeout client 1h",
            "  timeout server 1h",
            "  timeout tunnel 1h",
            "frontend slime",
            "  bind 127.0.0.1:" + balancer,
            "  default_backend hubs",
            "backend hubs",
            "  server hub1 127.0.0.1:" + port(),
            ""));
    Process haproxy =
        new ProcessBuilder("haproxy", "-f", config.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("haproxy.log").toFile())
            .start();
    try {
      awaitListening(balancer);
      try (RawHttp raw = RawHttp.connect(balancer)) {
        raw.write(latin1(SMUGGLING));
        RawHttp.Response r = raw.read();
        assertEquals(400, r.status(), r.bodyText());
        assertEquals("bad-header", r.header("Slime-Error"), "the hub refused it, not HAProxy");
      }
      assertFalse(
          upstream.received().stream().anyMatch(r -> r.headText().contains("X-Injected")),
          "the body's line reached the upstream as a header");
    } finally {
      haproxy.destroy();
      haproxy.waitFor();
    }
  }

  private static boolean onPath(String command) {
    for (String dir : System.getenv("PATH").split(":")) {
      if (Files.isExecutable(Path.of(dir, command))) {
        return true;
      }
    }
    return false;
  }

  private static void awaitListening(int port) {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (true) {
      try {
        RawHttp.connect(port).close();
        return;
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("nothing listens on " + port, e);
        }
        Slime.sleep(50);
      }
    }
  }
}
