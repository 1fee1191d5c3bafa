package io.slime.hub.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.slime.hub.policy.Protocol;
import io.slime.shared.protocol.Header;
import java.time.Duration;
import java.util.Map;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.junit.jupiter.api.Test;

class ForwardedHeadersTest {
  private static final RealIp BEHIND_PROXY =
      realIp("header = X-Forwarded-For, trusted-proxies = [\"10.0.0.0/8\", \"::1\"]");

  private static RealIp realIp(String hocon) {
    return RealIp.create(ConfigFactory.parseString(hocon), "slime.hub.real-ip");
  }

  private static HttpRequest request(String... headers) {
    HttpRequest request = HttpRequest.GET("/v1/chat");
    for (int i = 0; i < headers.length; i += 2) {
      request = request.addHeader(RawHeader.create(headers[i], headers[i + 1]));
    }
    return request;
  }

  private static String forwarded(ForwardedHeaders h, String name) {
    return h.forwarded.stream()
        .filter(x -> x.name().equalsIgnoreCase(name))
        .map(Header::value)
        .findFirst()
        .orElse(null);
  }

  @Test
  void readsTheControlHeadersAndNeverForwardsThem() {
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
  void aMalformedControlHeaderIsAProblemNotAGuess() {
    assertTrue(problem("Slime-Priority", "10").contains("0 to 9"));
    assertTrue(problem("Slime-Priority", "high").contains("Slime-Priority"));
    assertTrue(problem("Slime-Block-Timeout", "soon").contains("Slime-Block-Timeout"));
    assertTrue(problem("Slime-Select", "llama3").contains("Slime-Select"));
  }

  private static String problem(String name, String value) {
    return ForwardedHeaders.of(request(name, value), "127.0.0.1", RealIp.NONE, 9).problem;
  }

  @Test
  void withoutARealIpSettingTheConnectionIsTheClientAndForwardedForIsAppended() {
    ForwardedHeaders h =
        ForwardedHeaders.of(request("X-Forwarded-For", "1.1.1.1"), "10.1.1.1", RealIp.NONE, 9);
    assertEquals("10.1.1.1", h.clientIp);
    assertEquals("1.1.1.1, 10.1.1.1", forwarded(h, "X-Forwarded-For"));
    assertNull(forwarded(h, "X-Real-IP"));
  }

  @Test
  void aTrustedProxysHeaderNamesTheClientAndAnUntrustedClientCannotForgeIt() {
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
  void badRealIpSettingsNameTheirKey() {
    ConfigException noTrust =
        assertThrows(ConfigException.class, () -> realIp("header = X-Real-IP, trusted-proxies = []"));
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
