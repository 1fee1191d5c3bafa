package io.slime.shared.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slime.shared.protocol.Header;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class HeaderRulesTest {

  private static List<Header> headers(String... namesAndValues) {
    List<Header> out = new ArrayList<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      out.add(new Header(namesAndValues[i], namesAndValues[i + 1]));
    }
    return out;
  }

  private static List<String> names(List<Header> headers) {
    return headers.stream().map(Header::name).toList();
  }

  @Test
  void shouldDropTheHopByHopFieldsOfRfc9110InBothDirections() {
    List<Header> all =
        headers(
            "Connection", "keep-alive",
            "Keep-Alive", "timeout=5",
            "Proxy-Connection", "keep-alive",
            "TE", "trailers",
            "Trailer", "X-Checksum",
            "Transfer-Encoding", "chunked",
            "Upgrade", "h2c",
            "HTTP2-Settings", "AAMAAABkAAQAAP__",
            "Proxy-Authenticate", "Basic realm=x",
            "Proxy-Authorization", "Basic Zm9vOmJhcg==",
            "Proxy-Authentication-Info", "nextnonce=x",
            "X-Kept", "yes");

    assertEquals(List.of("X-Kept"), names(HeaderRules.request(all)));
    assertEquals(List.of("X-Kept"), names(HeaderRules.response(all)));
  }

  @Test
  void shouldDropWhatEveryConnectionFieldNamesWhereverItStands() {
    List<Header> all =
        headers(
            "X-Before", "listed by the second Connection field",
            "Connection", "X-One , x-TWO,,",
            "X-One", "1",
            "X-Two", "2",
            "connection", "\tX-Before",
            "X-Three", "kept");

    assertEquals(List.of("X-Three"), names(HeaderRules.request(all)));
    assertEquals(List.of("X-Three"), names(HeaderRules.response(all)));
  }

  @Test
  void shouldDropSlimeFieldsAndPekkosInternalOnesInBothDirections() {
    List<Header> all =
        headers(
            "Slime-Agent", "forged",
            "Slime-Error", "forged",
            "SLIME-ANYTHING", "x",
            "Timeout-Access", "x",
            "Remote-Address", "192.0.2.1",
            "Raw-Request-URI", "/x",
            "Tls-Session-Info", "x",
            "UpgradeToWebSocket", "x",
            "UpgradeToOtherProtocolResponseHeader", "x",
            "Slimey", "not ours",
            "Server", "upstream");

    assertEquals(List.of("Slimey", "Server"), names(HeaderRules.request(all)));
    assertEquals(List.of("Slimey", "Server"), names(HeaderRules.response(all)));
  }

  @Test
  void shouldDropEveryProxyFieldOfARequestButOnlyTheHopByHopOnesOfAResponse() {
    List<Header> all =
        headers(
            "Proxy", "http://evil.example:3128",
            "Proxy-Foo", "1",
            "Proxy-Status", "upstream-nginx; error=http_request_error",
            "Proxyish", "kept");

    assertEquals(List.of("Proxyish"), names(HeaderRules.request(all)));
    assertEquals(names(all), names(HeaderRules.response(all)));
  }

  @Test
  void shouldKeepOrderAndRepeatsOfWhatPasses() {
    List<Header> all =
        headers("Set-Cookie", "a=1", "Connection", "close", "Set-Cookie", "b=2", "X-A", "x");

    assertEquals(
        headers("Set-Cookie", "a=1", "Set-Cookie", "b=2", "X-A", "x"), HeaderRules.response(all));
  }

  @Test
  void shouldReadConnectionOptionsAsACaseFreeCommaList() {
    Set<String> options = new TreeSet<>();
    HeaderRules.addConnectionOptions(" Keep-Alive ,X-Foo,, \t", options);
    HeaderRules.addConnectionOptions("x-bar", options);

    assertEquals(Set.of("keep-alive", "x-foo", "x-bar"), options);
    assertTrue(HeaderRules.neverInRequest("proxy-authorization"));
    assertFalse(HeaderRules.neverInResponse("proxy-status"));
  }
}
