package io.slime.hub.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

class RoutingTest {

  private static Routing routing(String hocon) {
    return Routing.create(
        ConfigFactory.parseString(hocon)
            .withFallback(ConfigFactory.parseString("ip-hash-fallback = fifo, routes {}")),
        "slime.hub.routing");
  }

  @Test
  void shouldLetTheLongestMatchingPathWinAndItsProtocolsOverrideItsPolicy() {
    Routing routing =
        routing(
            """
            routes {
              default { path = "/", policy = least-busy, protocols { sse = ip-hash } }
              chat { path = "/v1/chat/", policy = weighted, protocols { websocket = round-robin } }
            }
            """);
    assertEquals(Policy.LEAST_BUSY, routing.policyFor("/v1/models", Protocol.HTTP));
    assertEquals(Policy.IP_HASH, routing.policyFor("/v1/models", Protocol.SSE));
    assertEquals(Policy.WEIGHTED, routing.policyFor("/v1/chat/completions", Protocol.HTTP));
    assertEquals(Policy.WEIGHTED, routing.policyFor("/v1/chat/completions", Protocol.SSE));
    assertEquals(Policy.ROUND_ROBIN, routing.policyFor("/v1/chat/x", Protocol.WEBSOCKET));
    assertEquals(Policy.FIFO, routing("routes {}").policyFor("/any", Protocol.HTTP));
  }

  @Test
  void shouldReadTheIpHashFallbackAndWait() {
    assertEquals(Policy.LEAST_BUSY, routing("ip-hash-fallback = least-busy").ipHashFallback());
    assertNull(routing("ip-hash-fallback = wait").ipHashFallback());
  }

  @Test
  void shouldNameTheKeyOfEveryBadValue() {
    assertKey(
        "slime.hub.routing.routes.chat.policy", "routes { chat { path = /, policy = fastest } }");
    assertKey("slime.hub.routing.routes.chat.path", "routes { chat { path = v1, policy = fifo } }");
    assertKey(
        "slime.hub.routing.routes.chat.protocols.grpc",
        "routes { chat { path = /, protocols { grpc = fifo } } }");
    assertKey("slime.hub.routing.ip-hash-fallback", "ip-hash-fallback = ip-hash");
    assertKey("slime.hub.routing.ip-hash-fallback", "ip-hash-fallback = nearest");
  }

  private static void assertKey(String key, String hocon) {
    ConfigException e = assertThrows(ConfigException.class, () -> routing(hocon));
    assertTrue(e.getMessage().contains(key), e.getMessage());
  }

  @Test
  void shouldTellTheProtocolFromTheHeaders() {
    assertEquals(Protocol.SSE, Protocol.of("text/event-stream", null));
    assertEquals(Protocol.SSE, Protocol.of("application/json, text/event-stream;q=0.9", null));
    assertEquals(Protocol.WEBSOCKET, Protocol.of("*/*", "WebSocket"));
    assertEquals(Protocol.HTTP, Protocol.of("*/*", null));
    assertEquals(Protocol.HTTP, Protocol.of(null, null));
  }
}
