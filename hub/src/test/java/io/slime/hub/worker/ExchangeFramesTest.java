package io.slime.hub.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.slime.shared.protocol.Frame;
import io.slime.shared.protocol.Header;
import java.util.List;
import java.util.stream.StreamSupport;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;

class ExchangeFramesTest {

  private static Frame.ResponseStart start(Header... headers) {
    ByteString body = ByteString.fromString("ok");
    return new Frame.ResponseStart(1, 200, List.of(headers), "", body.size(), true, body);
  }

  private static List<String> headers(HttpResponse response) {
    return StreamSupport.stream(response.getHeaders().spliterator(), false)
        .map(h -> h.name() + ": " + h.value())
        .toList();
  }

  @Test
  void shouldStripTheUpstreamsSlimeAndHopByHopHeadersBeforeAddingTheHubsOwn() {
    HttpResponse response =
        ExchangeFrames.response(
            start(
                new Header("Slime-Agent", "forged"),
                new Header("slime-error", "forged"),
                new Header("Connection", "X-Secret"),
                new Header("X-Secret", "leak"),
                new Header("Proxy-Authenticate", "Basic realm=x"),
                new Header("X-Upstream", "kept")),
            null,
            "gpu-1",
            false);

    assertEquals(List.of("X-Upstream: kept", "Slime-Agent: gpu-1"), headers(response));
  }

  @Test
  void shouldKeepAnotherHubNodesOwnErrorCodeAndAddNoEmptyAgent() {
    HttpResponse response =
        ExchangeFrames.relayed(
            start(new Header("Slime-Error", "upstream-failed")), null, "", false);

    assertEquals(List.of("Slime-Error: upstream-failed"), headers(response));
    HttpHeader agent =
        ExchangeFrames.relayed(start(), null, "gpu-2", false).getHeader("Slime-Agent").get();
    assertEquals("gpu-2", agent.value());
  }
}
