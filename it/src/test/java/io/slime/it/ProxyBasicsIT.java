package io.slime.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.slime.agent.Agents;
import io.slime.hub.Hub;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Requests and responses cross hub, agent and upstream with their bytes and headers intact. */
class ProxyBasicsIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String AGENT_NAME = "basics-agent";

  private static TestUpstream upstream;
  private static Hub hub;
  private static Agents agents;
  private static Hub deadEndHub;
  private static Agents deadEndAgents;
  private static int closedPort;

  @BeforeAll
  static void start() {
    upstream = TestUpstream.start();
    hub = Slime.hub();
    agents = Slime.agent(hub, Slime.token(AGENT_NAME), upstream.address(), 2, "basics");
    closedPort = Slime.freePort();
    deadEndHub = Slime.hub();
    deadEndAgents =
        Slime.agent(deadEndHub, Slime.token("dead-end"), "127.0.0.1:" + closedPort, 1, "dead-end");
    Slime.awaitWorkers(hub, 2, "/echo");
  }

  @AfterAll
  static void stop() {
    Slime.closeAll(agents, deadEndAgents, hub, deadEndHub, upstream);
  }

  @Test
  void shouldCarryGetWithPathQueryAndHeaders() throws Exception {
    HttpResponse<String> r =
        Client.get(Slime.url(hub, "/echo/some/path?a=1&b=x%20y"), "X-Custom", "hello");

    assertEquals(200, r.statusCode());
    assertEquals(AGENT_NAME, Client.header(r, "Slime-Agent"));
    assertEquals("test", Client.header(r, "X-Upstream"));
    assertEquals("application/json", Client.header(r, "Content-Type"));
    JsonNode echo = JSON.readTree(r.body());
    assertEquals("GET", echo.get("method").asText());
    assertEquals("/echo/some/path", echo.get("path").asText());
    assertEquals("a=1&b=x%20y", echo.get("query").asText());
    assertEquals("hello", echo.at("/headers/x-custom/0").asText());
    assertEquals(0, echo.get("bodySize").asLong());
  }

  @Test
  void shouldCarryPostPutAndDeleteBodies() throws Exception {
    Random random = new Random(42);
    // One body small enough to ride in the head frame, one larger than the 64 KiB inline limit.
    for (int size : new int[] {17, 300_000}) {
      byte[] body = new byte[size];
      random.nextBytes(body);
      String sha = HexFormat.of().formatHex(TestUpstream.sha256().digest(body));
      for (String method : List.of("POST", "PUT")) {
        HttpRequest request =
            Client.request(Slime.url(hub, "/echo/upload"), "Content-Type", "application/x-test")
                .method(method, BodyPublishers.ofByteArray(body))
                .build();
        HttpResponse<String> r = Client.send(request);
        assertEquals(200, r.statusCode(), method + " " + size + ": " + r.body());
        JsonNode echo = JSON.readTree(r.body());
        assertEquals(method, echo.get("method").asText());
        assertEquals(size, echo.get("bodySize").asLong(), method);
        assertEquals(sha, echo.get("bodySha256").asText(), method);
        assertEquals("application/x-test", echo.at("/headers/content-type/0").asText());
      }
    }
    HttpResponse<String> deleted =
        Client.send(Client.request(Slime.url(hub, "/echo/item/7")).DELETE().build());
    assertEquals(200, deleted.statusCode());
    assertEquals("DELETE", JSON.readTree(deleted.body()).get("method").asText());
    assertEquals("/echo/item/7", JSON.readTree(deleted.body()).get("path").asText());
  }

  @Test
  void shouldCarryChunkedAndExpectContinueUploads() throws Exception {
    byte[] body = new byte[1_000_000];
    new Random(3).nextBytes(body);
    String sha = HexFormat.of().formatHex(TestUpstream.sha256().digest(body));
    // No length: the JDK client sends it chunked.
    HttpResponse<String> chunked =
        Client.send(
            Client.request(Slime.url(hub, "/echo/chunked"))
                .POST(BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(body)))
                .build());
    assertEquals(200, chunked.statusCode(), chunked.body());
    assertEquals(sha, JSON.readTree(chunked.body()).get("bodySha256").asText());

    HttpResponse<String> continued =
        Client.send(
            Client.request(Slime.url(hub, "/echo/continue"))
                .expectContinue(true)
                .POST(BodyPublishers.ofByteArray(body))
                .build());
    assertEquals(200, continued.statusCode(), continued.body());
    assertEquals(sha, JSON.readTree(continued.body()).get("bodySha256").asText());
  }

  @Test
  void shouldAnswerHeadWithHeadersOnly() {
    HttpResponse<String> r =
        Client.send(
            Client.request(Slime.url(hub, "/echo/head"))
                .method("HEAD", BodyPublishers.noBody())
                .build());

    assertEquals(200, r.statusCode());
    assertEquals("", r.body());
    assertEquals("test", Client.header(r, "X-Upstream"));
    assertEquals(AGENT_NAME, Client.header(r, "Slime-Agent"));
  }

  @Test
  void shouldPassUpstreamStatusesThrough() {
    HttpResponse<String> teapot = Client.get(Slime.url(hub, "/echo?status=418"));
    assertEquals(418, teapot.statusCode());
    assertEquals("test", Client.header(teapot, "X-Upstream"));

    HttpResponse<String> missing = Client.get(Slime.url(hub, "/nothing-here"));
    assertEquals(404, missing.statusCode());
    assertEquals("no such endpoint\n", missing.body());
    assertNull(Client.header(missing, "Slime-Error"), "an upstream 404 is not a hub error");
    assertEquals(AGENT_NAME, Client.header(missing, "Slime-Agent"));
  }

  @Test
  void shouldDropHopByHopAndControlHeadersAndSetForwardedOnes() throws Exception {
    int port = hub.address().getPort();
    try (RawHttp raw = RawHttp.connect(port)) {
      raw.send(
          "GET",
          "/echo/headers",
          "Connection: keep-alive, X-Foo",
          "X-Foo: must-not-arrive",
          "Keep-Alive: timeout=5",
          "TE: trailers",
          "Proxy-Authorization: Basic Zm9vOmJhcg==",
          "Slime-Block: 1",
          "Slime-Future-Control: x",
          "Slime-App-Password: secret",
          "X-Keep: yes",
          "Authorization: Bearer abc");
      RawHttp.Response r = raw.read();

      assertEquals(200, r.status(), r.bodyText());
      assertEquals(AGENT_NAME, r.header("Slime-Agent"));
      JsonNode headers = JSON.readTree(r.body()).get("headers");
      for (String gone :
          List.of(
              "connection",
              "x-foo",
              "keep-alive",
              "te",
              "proxy-authorization",
              "slime-block",
              "slime-future-control",
              "slime-app-password")) {
        assertFalse(headers.has(gone), gone + " reached the upstream: " + headers);
      }
      headers.fieldNames().forEachRemaining(n -> assertFalse(n.startsWith("slime-"), n));
      assertEquals("yes", headers.at("/x-keep/0").asText());
      assertEquals("Bearer abc", headers.at("/authorization/0").asText());
      assertEquals("127.0.0.1", headers.at("/x-forwarded-for/0").asText());
      assertEquals("http", headers.at("/x-forwarded-proto/0").asText());
      assertEquals("127.0.0.1:" + port, headers.at("/x-forwarded-host/0").asText());
    }
  }

  @Test
  void shouldKeepEncodedPathsAndQueriesAsSent() throws Exception {
    HttpResponse<String> r =
        Client.get(Slime.url(hub, "/echo/x%20y/a%2Fb/%C3%A9?q=%26&r=a+b&s=%2B"));

    assertEquals(200, r.statusCode(), r.body());
    JsonNode echo = JSON.readTree(r.body());
    assertEquals("/echo/x%20y/a%2Fb/%C3%A9", echo.get("path").asText());
    assertEquals("q=%26&r=a+b&s=%2B", echo.get("query").asText());
  }

  @Test
  void shouldKeepRepeatedHeadersBothWays() throws Exception {
    int port = hub.address().getPort();
    try (RawHttp raw = RawHttp.connect(port)) {
      raw.send(
          "GET", "/echo", "X-Multi: one", "X-Multi: two", "Accept: text/plain, application/json");
      RawHttp.Response r = raw.read();

      assertEquals(200, r.status(), r.bodyText());
      assertEquals(List.of("a=1", "b=2"), r.headers().get("set-cookie"));
      JsonNode headers = JSON.readTree(r.body()).get("headers");
      // Two fields or one folded list: the same thing in HTTP, with order kept.
      StringBuilder multi = new StringBuilder();
      headers
          .get("x-multi")
          .forEach(v -> multi.append(multi.length() > 0 ? "," : "").append(v.asText()));
      assertEquals("one,two", multi.toString().replace(" ", ""));
    }
  }

  @Test
  void shouldReplaceTheForwardedForOfAClientThatIsNoTrustedProxy() throws Exception {
    HttpResponse<String> r = Client.get(Slime.url(hub, "/echo"), "X-Forwarded-For", "203.0.113.9");
    JsonNode headers = JSON.readTree(r.body()).get("headers");
    assertEquals("127.0.0.1", headers.at("/x-forwarded-for/0").asText());
  }

  @Test
  void shouldReserveSlimePaths() {
    int before = upstream.requests();
    HttpResponse<String> r = Client.get(Slime.url(hub, "/_slime/anything"));

    assertEquals(404, r.statusCode());
    assertEquals("reserved-path", Client.header(r, "Slime-Error"));
    assertTrue(r.body().startsWith("slime: "), r.body());
    assertEquals(before, upstream.requests(), "a reserved path must not reach an upstream");
    HttpResponse<String> admin =
        Client.get(Slime.url(hub, "/_slime/api/v1/cluster"), "Authorization", "Bearer x");
    assertEquals(404, admin.statusCode(), "no admin token configured: no admin API");
  }

  @Test
  void shouldAnswer502ForAnUnreachableUpstreamAndKeepTheWorker() {
    HttpResponse<String> first = Client.get(Slime.url(deadEndHub, "/echo"), "Slime-Block", "1");

    assertEquals(502, first.statusCode(), first.body());
    assertEquals("upstream-failed", Client.header(first, "Slime-Error"));
    assertTrue(
        first.body().contains("127.0.0.1:" + closedPort)
            || first.body().toLowerCase().contains("refused")
            || first.body().toLowerCase().contains("connect"),
        "the body should name the problem: " + first.body());

    // Not blocking: only an idle worker still in the pool can answer this with a 502.
    long start = System.nanoTime();
    HttpResponse<String> second = Client.get(Slime.url(deadEndHub, "/echo"));
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertEquals(502, second.statusCode(), second.body());
    assertEquals("upstream-failed", Client.header(second, "Slime-Error"));
    assertTrue(ms < 2000, "second 502 took " + ms + " ms");
  }
}
