package io.slime.agent.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slime.shared.net.ServiceAddress;
import io.slime.shared.protocol.Frame;
import io.slime.shared.protocol.Header;
import java.util.List;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawRequestURI;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;

class UpstreamRequestsTest {
  private final UpstreamRequests requests =
      new UpstreamRequests(ServiceAddress.parse("http://127.0.0.1:9000/base"));

  private static Frame.RequestStart start(String method, String target, Header... headers) {
    return new Frame.RequestStart(
        1, method, target, List.of(headers), "", 0, true, ByteString.emptyByteString());
  }

  @Test
  void shouldRefuseAValueItCannotWriteByteForByteNamingTheHeader() {
    for (String value : new String[] {"a\u0100", "\u2603", "a\u0000b", "a\rb", "a\nb", "\u007f"}) {
      UpstreamRequests.RefusedException e =
          assertThrows(
              UpstreamRequests.RefusedException.class,
              () -> requests.build(start("GET", "/", new Header("X-Snow", value)), null));
      assertEquals(Frame.Failure.Kind.BAD_HEADER, e.kind());
      assertTrue(e.getMessage().contains("X-Snow"), e.getMessage());
    }
  }

  @Test
  void shouldRefuseAHeaderNameThatIsNotAToken() {
    for (String name : new String[] {"", "X Snow", "X:Snow", "X-\u00e9"}) {
      UpstreamRequests.RefusedException e =
          assertThrows(
              UpstreamRequests.RefusedException.class,
              () -> requests.build(start("GET", "/", new Header(name, "v")), null));
      assertEquals(Frame.Failure.Kind.BAD_HEADER, e.kind());
    }
  }

  @Test
  void shouldPassTabsAndObsText() {
    HttpRequest request =
        requests.build(start("GET", "/a", new Header("X-Latin", "caf\u00e9\tok ~")), null);
    assertEquals("caf\u00e9\tok ~", request.getHeader("X-Latin").orElseThrow().value());
  }

  @Test
  void shouldSendOptionsAsteriskWithoutTheBasePath() {
    HttpRequest request = requests.build(start("OPTIONS", "*"), null);
    assertEquals("*", request.getHeader(RawRequestURI.class).orElseThrow().uri());
    HttpRequest other = requests.build(start("GET", "/v1/models?x=1"), null);
    assertEquals("/base/v1/models?x=1", other.getUri().toString());
  }

  @Test
  void shouldRefuseABadContentTypeAsABadHeader() {
    Frame.RequestStart start =
        new Frame.RequestStart(
            1, "POST", "/", List.of(), "no/\u0001", 1, true, ByteString.fromString("x"));
    UpstreamRequests.RefusedException e =
        assertThrows(UpstreamRequests.RefusedException.class, () -> requests.build(start, null));
    assertEquals(Frame.Failure.Kind.BAD_HEADER, e.kind());
  }
}
