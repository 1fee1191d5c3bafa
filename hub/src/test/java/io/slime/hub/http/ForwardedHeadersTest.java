package io.slime.hub.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.slime.hub.policy.Protocol;
import io.slime.shared.protocol.Header;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.model.headers.RemoteAddress;
import org.junit.jupiter.api.Test;

class ForwardedHeadersTest {
  private static final RealIp BEHIND_PROXY =
      realIp("header = X-Forwarded-For, trusted-proxies = [\"10.0.0.0/8\", \"::1\"]");

  private static RealIp realIp(String hocon) {
    return RealIp.create(ConfigFactory.parseString(hocon), "slime.hub.real-ip");
  }

  /** A request with these headers in this order, as the parser gives them. */
  private static HttpRequest request(String... headers) {
    List<HttpHeader> list = new ArrayList<>();
    for (int i = 0; i < headers.length; i += 2) {
      list.add(RawHeader.create(headers[i], headers[i + 1]));
    }
    return HttpRequest.GET("/v1/chat").withHeaders(list);
  }

  private static String forwarded(ForwardedHeaders h, String name) {
    return h.forwarded.stream()
        .filter(x -> x.name().equalsIgnoreCase(name))
        .map(Header::value)
        .findFirst()
        .orElse(null);
  }

  @Test
  void shouldReadTheControlHeadersAndNeverForwardThem() {
    ForwardedHeaders h =
        ForwardedHeaders.of(
            request(
                "Slime-Select", "model=llama3, gpu=a100",
                "Slime-Priority", "7",
                "Slime-Block-Timeout", "1m30s",
                "Slime-Block", "1",
                "Accept", "text/event-stream"),
            "127.0.0.1",
            RealIp.NONE,
            9);
    assertNull(h.problem);
    assertEquals(Map.of("model", "llama3", "gpu", "a100"), h.select);
    assertEquals(7, h.priority);
    assertEquals(Duration.ofSeconds(90), h.blockTimeout);
    assertTrue(h.block);
    assertEquals(Protocol.SSE, h.protocol);
    assertTrue(h.forwarded.stream().noneMatch(x -> x.name().startsWith("Slime-")));
    assertEquals(
        Duration.ofSeconds(30),
        ForwardedHeaders.of(request("Slime-Block-Timeout", "30"), "1.2.3.4", RealIp.NONE, 9)
            .blockTimeout);
  }

  @Test
  void shouldTreatAMalformedControlHeaderAsAProblemNotAGuess() {
    assertTrue(problem("Slime-Priority", "10").contains("0 to 9"));
    assertTrue(problem("Slime-Priority", "high").contains("Slime-Priority"));
    assertTrue(problem("Slime-Block-Timeout", "soon").contains("Slime-Block-Timeout"));
    assertTrue(problem("Slime-Select", "llama3").contains("Slime-Select"));
    assertTrue(problem("Slime-Block", "please").contains("Slime-Block must be 1 or 0"));
  }

  @Test
  void shouldTakeTheUsualSpellingsOfYesAndNoForSlimeBlock() {
    for (String yes : List.of("1", "true", "TRUE", "yes", "on", " 1 ")) {
      ForwardedHeaders h =
          ForwardedHeaders.of(request("Slime-Block", yes), "1.2.3.4", RealIp.NONE, 9);
      assertNull(h.problem, yes);
      assertTrue(h.block, yes);
    }
    for (String no : List.of("0", "false", "no", "Off", "")) {
      ForwardedHeaders h =
          ForwardedHeaders.of(request("Slime-Block", no), "1.2.3.4", RealIp.NONE, 9);
      assertNull(h.problem, no);
      assertFalse(h.block, no);
    }
  }

  private static String problem(String name, String value) {
    return ForwardedHeaders.of(request(name, value), "127.0.0.1", RealIp.NONE, 9).problem;
  }

  @Test
  void shouldReplaceAnUntrustedClientsForwardingHeadersWithTheHubsOwn() {
    HttpRequest claims =
        request(
            "Host", "hub.example:8080",
            "X-Forwarded-For", "1.1.1.1",
            "X-Forwarded-Proto", "https",
            "X-Forwarded-Host", "bank.example",
            "X-Real-IP", "6.6.6.6",
            "Forwarded", "for=6.6.6.6;proto=https");
    for (RealIp realIp : List.of(RealIp.NONE, BEHIND_PROXY)) {
      ForwardedHeaders h = ForwardedHeaders.of(claims, "192.0.2.7", realIp, 9);
      assertEquals("192.0.2.7", h.clientIp);
      assertEquals(
          List.of(
              new Header("X-Forwarded-For", "192.0.2.7"),
              new Header("X-Forwarded-Proto", "http"),
              new Header("X-Forwarded-Host", "hub.example:8080"),
              new Header("X-Real-IP", "192.0.2.7"),
              new Header("Forwarded", "for=192.0.2.7;host=\"hub.example:8080\";proto=http")),
          h.forwarded);
    }
  }

  @Test
  void shouldKeepAndExtendATrustedProxysForwardingHeadersWithRepeatsJoinedInOrder() {
    ForwardedHeaders h =
        ForwardedHeaders.of(
            request(
                "X-Forwarded-For", "203.0.113.9",
                "X-Forwarded-For", "198.51.100.1, 10.2.2.2",
                "X-Forwarded-Proto", "https",
                "X-Forwarded-Host", "api.example",
                "Forwarded", "for=203.0.113.9",
                "Forwarded", "for=\"[2001:db8::1]\";proto=https"),
            "10.1.1.1",
            BEHIND_PROXY,
            9);
    assertEquals("198.51.100.1", h.clientIp, "the right-most address that is no proxy");
    assertEquals("203.0.113.9, 198.51.100.1, 10.2.2.2, 10.1.1.1", forwarded(h, "X-Forwarded-For"));
    assertEquals("https", forwarded(h, "X-Forwarded-Proto"));
    assertEquals("api.example", forwarded(h, "X-Forwarded-Host"));
    assertEquals("198.51.100.1", forwarded(h, "X-Real-IP"));
    assertEquals(
        "for=203.0.113.9, for=\"[2001:db8::1]\";proto=https, for=10.1.1.1;proto=http",
        forwarded(h, "Forwarded"),
        "no Host sent, none in the URI: no host parameter");
  }

  @Test
  void shouldQuoteAnIpv6PeerInForwarded() {
    assertEquals(
        "for=\"[::1]\";host=localhost;proto=http",
        ForwardedHeaders.forwardedElement("::1", "localhost"));
  }

  @Test
  void shouldNeverPassHopByHopProxyAndPekkoHeaders() {
    HttpRequest request =
        request(
                "Connection", "X-A",
                "Connection", "x-b, keep-alive",
                "X-A", "1",
                "X-B", "2",
                "Proxy", "http://evil.example",
                "Proxy-Foo", "1",
                "Keep-Alive", "timeout=5",
                "X-Kept", "yes")
            .addHeader(
                RemoteAddress.create(
                    org.apache.pekko.http.javadsl.model.RemoteAddress.create(
                        new InetSocketAddress("192.0.2.1", 1234))));
    List<String> names =
        ForwardedHeaders.of(request, "127.0.0.1", RealIp.NONE, 9).forwarded.stream()
            .map(Header::name)
            .toList();
    assertEquals(
        List.of(
            "X-Kept",
            "X-Forwarded-For",
            "X-Forwarded-Proto",
            "X-Forwarded-Host",
            "X-Real-IP",
            "Forwarded"),
        names);
  }

  @Test
  void shouldLetATrustedProxysHeaderNameTheClientAndStopAnUntrustedClientForgingIt() {
    ForwardedHeaders viaProxy =
        ForwardedHeaders.of(
            request("X-Forwarded-For", "203.0.113.9, 10.2.2.2"), "10.1.1.1", BEHIND_PROXY, 9);
    assertEquals("203.0.113.9", viaProxy.clientIp, "the right-most address that is no proxy");
    assertEquals("203.0.113.9, 10.2.2.2, 10.1.1.1", forwarded(viaProxy, "X-Forwarded-For"));
    assertEquals("203.0.113.9", forwarded(viaProxy, "X-Real-IP"));

    ForwardedHeaders forged =
        ForwardedHeaders.of(request("X-Forwarded-For", "1.2.3.4"), "198.51.100.7", BEHIND_PROXY, 9);
    assertEquals("198.51.100.7", forged.clientIp);
    assertEquals("198.51.100.7", forwarded(forged, "X-Forwarded-For"), "the claim is dropped");
    assertEquals("198.51.100.7", forwarded(forged, "X-Real-IP"));

    RealIp realIpHeader = realIp("header = X-Real-IP, trusted-proxies = [127.0.0.1]");
    ForwardedHeaders single =
        ForwardedHeaders.of(request("X-Real-IP", "192.0.2.5"), "127.0.0.1", realIpHeader, 9);
    assertEquals("192.0.2.5", single.clientIp);
    assertEquals("192.0.2.5", forwarded(single, "X-Real-IP"));
    assertEquals(
        "192.0.2.66",
        ForwardedHeaders.of(request("X-Real-IP", "6.6.6.6"), "192.0.2.66", realIpHeader, 9)
            .clientIp);
  }

  @Test
  void shouldNameTheKeyOfEveryBadRealIpSetting() {
    ConfigException noTrust =
        assertThrows(
            ConfigException.class, () -> realIp("header = X-Real-IP, trusted-proxies = []"));
    assertTrue(noTrust.getMessage().contains("slime.hub.real-ip.trusted-proxies"));
    ConfigException badCidr =
        assertThrows(
            ConfigException.class,
            () -> realIp("header = X-Real-IP, trusted-proxies = [\"10.0.0.0/33\"]"));
    assertTrue(badCidr.getMessage().contains("10.0.0.0/33"), badCidr.getMessage());
    assertThrows(
        ConfigException.class, () -> realIp("header = X-Real-IP, trusted-proxies = [proxy.local]"));
  }
}
