package io.slime.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.slime.agent.Agents;
import io.slime.hub.Hub;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What crosses the hub and agent in each direction, seen byte for byte: a raw-socket client on one
 * side, a raw-socket upstream recording every request head and answering with header lines of the
 * test's choosing on the other.
 */
class HeaderRulesIT {
  private static final String AGENT_NAME = "header-rules";

  /** Everything an upstream may say to pass for the hub, or to smuggle a header past it. */
  private static final String FORGING_HEAD =
      "Slime-Agent: forged\r\n"
          + "Slime-Error: upstream-failed\r\n"
          + "slime-anything: x\r\n"
          + "Connection: X-Secret,  KEEP-ALIVE ,x-Other-Secret\r\n"
          + "X-Secret: 1\r\n"
          + "X-Other-Secret: 2\r\n"
          + "Keep-Alive: timeout=5\r\n"
          + "Proxy-Authenticate: Basic realm=\"upstream\"\r\n"
          + "X-Upstream: kept\r\n";

  private static Hub hub;
  private static HeaderRecordingUpstream upstream;
  private static Agents agent;

  @BeforeAll
  static void start() throws Exception {
    upstream =
        HeaderRecordingUpstream.start(
            target -> {
              if (target.startsWith("/forge-chunked")) {
                return "HTTP/1.1 200 OK\r\n"
                    + FORGING_HEAD
                    + "Transfer-Encoding: chunked\r\n\r\n3\r\nok\n\r\n0\r\n\r\n";
              }
              if (target.startsWith("/forge")) {
                return "HTTP/1.1 200 OK\r\n" + FORGING_HEAD + "Content-Length: 3\r\n\r\nok\n";
              }
              return HeaderRecordingUpstream.OK;
            });
    hub = Slime.hub();
    agent = Slime.agent(hub, Slime.token(AGENT_NAME), upstream.address(), 1, "header-rules-1");
    Slime.awaitWorkers(hub, 1, "/ready");
  }

  @AfterAll
  static void stop() {
    Slime.closeAll(agent, hub, upstream);
  }

  @Test
  void shouldNotLetAnUpstreamForgeTheHubsHeadersOrPassOnWhatItsConnectionFieldsName()
      throws Exception {
    for (String target : List.of("/forge", "/forge-chunked")) {
      try (RawHttp raw = RawHttp.connect(hub.address().getPort())) {
        raw.send("GET", target);
        RawHttp.Response r = raw.read();

        assertEquals(200, r.status(), target);
        assertEquals("ok\n", r.bodyText(), target);
        assertEquals(List.of(AGENT_NAME), r.headers().get("slime-agent"), target);
        for (String gone :
            List.of(
                "slime-error",
                "slime-anything",
                "x-secret",
                "x-other-secret",
                "keep-alive",
                "proxy-authenticate")) {
          assertNull(r.headers().get(gone), target + ": " + gone + " reached the application");
        }
        assertEquals("kept", r.header("X-Upstream"), target);
      }
    }
  }

  @Test
  void shouldDropHopByHopProxyAndPekkoHeadersOfARequestAndEverythingItsConnectionFieldNames()
      throws Exception {
    upstream.clear();
    try (RawHttp raw = RawHttp.connect(hub.address().getPort())) {
      raw.send(
          "GET",
          "/record",
          "X-A: 1",
          "Connection: x-a,keep-alive , X-b",
          "X-B: 2",
          "Keep-Alive: timeout=5",
          "Proxy: http://evil.example:3128",
          "Proxy-Foo: 1",
          "Proxy-Authorization: Basic Zm9vOmJhcg==",
          "Timeout-Access: x",
          "Remote-Address: 192.0.2.1",
          "Raw-Request-URI: /evil",
          "Tls-Session-Info: x",
          "UpgradeToWebSocket: x",
          "Slime-Anything: x",
          "X-Kept: yes");
      assertEquals(200, raw.read().status());
    }

    HeaderRecordingUpstream.Request arrived = upstream.next(5_000);
    assertNotNull(arrived, "the request reached no upstream");
    assertEquals(expected("host", "x-kept"), names(arrived));
  }

  @Test
  void shouldRefuseASecondConnectionFieldWhoseNamesPekkoWouldNotHandOn() throws Exception {
    upstream.clear();
    try (RawHttp raw = RawHttp.connect(hub.address().getPort())) {
      raw.send("GET", "/record", "Connection: keep-alive", "Connection: X-Secret", "X-Secret: 1");
      RawHttp.Response refused = raw.read();
      assertEquals(400, refused.status());
      assertEquals("bad-header", refused.header("Slime-Error"));
    }
    assertNull(upstream.next(300), "a request with two Connection fields reached the upstream");
  }

  @Test
  void shouldNotPassPekkosWebSocketUpgradeHeaderUpstream() throws Exception {
    upstream.clear();
    try (RawHttp raw = RawHttp.connect(hub.address().getPort())) {
      raw.send(
          "GET",
          "/record/ws",
          "Upgrade: websocket",
          "Connection: Upgrade",
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
          "Sec-WebSocket-Version: 13");
      assertEquals(200, raw.read().status());
    }

    HeaderRecordingUpstream.Request arrived = upstream.next(5_000);
    assertNotNull(arrived, "the request reached no upstream");
    assertEquals(expected("host", "sec-websocket-key", "sec-websocket-version"), names(arrived));
  }

  @Test
  void shouldAddNoHeaderButHostAndTheForwardingOnes() throws Exception {
    upstream.clear();
    try (RawHttp raw = RawHttp.connect(hub.address().getPort())) {
      raw.send("GET", "/record/plain");
      assertEquals(200, raw.read().status());
    }

    HeaderRecordingUpstream.Request arrived = upstream.next(5_000);
    assertNotNull(arrived, "the request reached no upstream");
    assertEquals(expected("host"), names(arrived));
    assertEquals(List.of(upstream.address()), arrived.values("Host"));
  }

  /** What the hub sets on every request: see ForwardedHeadersIT. */
  private static final List<String> FORWARDING =
      List.of("x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-real-ip", "forwarded");

  /** {@code names} and the forwarding ones, sorted: each field once. */
  private static List<String> expected(String... names) {
    return Stream.concat(Stream.of(names), FORWARDING.stream()).sorted().toList();
  }

  private static List<String> names(HeaderRecordingUpstream.Request request) {
    return request.names().stream().sorted().toList();
  }
}
