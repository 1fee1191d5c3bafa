package io.slime.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.slime.agent.Agents;
import io.slime.hub.Hub;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the upstream is told of the client, exactly: the same forged forwarding headers through a
 * hub that trusts no proxy and one that trusts the client's address (loopback) as its proxy.
 */
class ForwardedHeadersIT {
  private static final String[] CLAIMS = {
    "X-Forwarded-For: 203.0.113.9",
    "X-Forwarded-For: 198.51.100.1",
    "X-Forwarded-Proto: https",
    "X-Forwarded-Host: api.example",
    "X-Real-IP: 6.6.6.6",
    "Forwarded: for=203.0.113.9;proto=https"
  };

  private static HeaderRecordingUpstream upstream;
  private static Hub untrusting;
  private static Hub trusting;
  private static Agents untrustingAgent;
  private static Agents trustingAgent;

  @BeforeAll
  static void start() throws Exception {
    upstream = HeaderRecordingUpstream.start();
    untrusting = Slime.hub();
    trusting =
        Slime.hub(
            Map.of(
                "real-ip.header",
                "X-Forwarded-For",
                "real-ip.trusted-proxies",
                List.of("127.0.0.1/32")));
    untrustingAgent =
        Slime.agent(untrusting, Slime.token("untrusting"), upstream.address(), 1, "fwd-1");
    trustingAgent = Slime.agent(trusting, Slime.token("trusting"), upstream.address(), 1, "fwd-2");
    Slime.awaitWorkers(untrusting, 1, "/ready");
    Slime.awaitWorkers(trusting, 1, "/ready");
  }

  @AfterAll
  static void stop() {
    Slime.closeAll(untrustingAgent, trustingAgent, untrusting, trusting, upstream);
  }

  @Test
  void shouldReplaceWhatAnUntrustedClientSaysOfItselfByWhatTheHubSaw() throws Exception {
    HeaderRecordingUpstream.Request arrived = send(untrusting);
    String hubHost = "127.0.0.1:" + untrusting.address().getPort();

    assertEquals(List.of("127.0.0.1"), arrived.values("X-Forwarded-For"));
    assertEquals(List.of("http"), arrived.values("X-Forwarded-Proto"));
    assertEquals(List.of(hubHost), arrived.values("X-Forwarded-Host"));
    assertEquals(List.of("127.0.0.1"), arrived.values("X-Real-IP"));
    assertEquals(
        List.of("for=127.0.0.1;host=\"" + hubHost + "\";proto=http"), arrived.values("Forwarded"));
  }

  @Test
  void shouldKeepAndExtendWhatATrustedProxySaysWithRepeatedFieldsJoinedInOrder() throws Exception {
    HeaderRecordingUpstream.Request arrived = send(trusting);
    String hubHost = "127.0.0.1:" + trusting.address().getPort();

    assertEquals(
        List.of("203.0.113.9, 198.51.100.1, 127.0.0.1"), arrived.values("X-Forwarded-For"));
    assertEquals(List.of("https"), arrived.values("X-Forwarded-Proto"));
    assertEquals(List.of("api.example"), arrived.values("X-Forwarded-Host"));
    assertEquals(
        List.of("198.51.100.1"),
        arrived.values("X-Real-IP"),
        "the right-most address of X-Forwarded-For that is no trusted proxy");
    assertEquals(
        List.of("for=203.0.113.9;proto=https, for=127.0.0.1;host=\"" + hubHost + "\";proto=http"),
        arrived.values("Forwarded"));
  }

  private static HeaderRecordingUpstream.Request send(Hub hub) throws Exception {
    upstream.clear();
    try (RawHttp raw = RawHttp.connect(hub.address().getPort())) {
      raw.send("GET", "/whoami", CLAIMS);
      assertEquals(200, raw.read().status());
    }
    HeaderRecordingUpstream.Request arrived = upstream.next(5_000);
    assertNotNull(arrived, "the request reached no upstream");
    return arrived;
  }
}
