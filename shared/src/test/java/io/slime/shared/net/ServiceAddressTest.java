package io.slime.shared.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ServiceAddressTest {

  @Test
  void shouldReadHostAndPortAsPlainHttp() {
    ServiceAddress address = ServiceAddress.parse("localhost:8080");

    assertEquals(new ServiceAddress(false, "localhost", 8080, ""), address);
    assertEquals("localhost:8080", address.authority());
    assertEquals("http://localhost:8080", address.toString());
    assertEquals("ws://localhost:8080/agent/connect", address.webSocketUri("/agent/connect"));
  }

  @Test
  void shouldReadUrlsWithAPath() {
    ServiceAddress address = ServiceAddress.parse("  https://hub.example.com:8443/slime/  ");

    assertEquals(new ServiceAddress(true, "hub.example.com", 8443, "/slime"), address);
    assertEquals("wss://hub.example.com:8443/slime/agent", address.webSocketUri("/agent"));
    assertEquals("https://hub.example.com:8443/slime", address.toString());
    assertEquals(
        new ServiceAddress(false, "10.0.0.1", 9000, "/a/b"),
        ServiceAddress.parse("http://10.0.0.1:9000/a/b//"));
  }

  @Test
  void shouldUseTheSchemesDefaultPort() {
    ServiceAddress http = ServiceAddress.parse("http://upstream");
    ServiceAddress https = ServiceAddress.parse("HTTPS://hub.example.com");

    assertEquals(80, http.port());
    assertEquals("upstream", http.authority());
    assertEquals(443, https.port());
    assertEquals("hub.example.com", https.authority());
    assertEquals(80, ServiceAddress.parse("upstream").port());
    // A port that is the other scheme's default is not left out.
    assertEquals("upstream:443", ServiceAddress.parse("http://upstream:443").authority());
  }

  @Test
  void shouldKeepIpv6LiteralsBracketed() {
    ServiceAddress plain = ServiceAddress.parse("[::1]:8080");
    ServiceAddress url = ServiceAddress.parse("https://[2001:db8::7]/base");

    assertEquals(8080, plain.port());
    assertEquals("[::1]:8080", plain.authority());
    assertEquals("ws://[::1]:8080/x", plain.webSocketUri("/x"));
    assertEquals(443, url.port());
    assertEquals("https://[2001:db8::7]/base", url.toString());
  }

  @Test
  void shouldRejectWhatIsNotAnAddress() {
    String[] junk = {
      null,
      "",
      "   ",
      "ftp://files.example.com",
      "ws://hub:80",
      "http://hub:80/path?query=1",
      "http://hub:80/#fragment",
      "hub:port",
      "two words:80",
      "http://",
      "hub:99999",
    };
    for (String text : junk) {
      assertThrows(
          IllegalArgumentException.class, () -> ServiceAddress.parse(text), () -> "" + text);
    }
  }
}
