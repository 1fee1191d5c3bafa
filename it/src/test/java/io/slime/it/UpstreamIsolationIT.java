package io.slime.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.slime.agent.Agents;
import io.slime.hub.Hub;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An upstream that sends what nobody asked for, on the agent's kept-alive connection: each request
 * still gets its own answer, and the agent closes the connection the moment the stray bytes come.
 */
class UpstreamIsolationIT {
  private static ScriptedUpstream upstream;
  private static Hub hub;
  private static Agents agents;

  @BeforeAll
  static void start() throws Exception {
    upstream =
        ScriptedUpstream.start()
            // Two answers in one write: the second is for no request.
            .on(
                "/extra",
                (request, out, socket) -> {
                  out.write(
                      join(
                          ScriptedUpstream.response(200, "extra"),
                          ScriptedUpstream.response(200, "EXTRA, for nobody")));
                  return true;
                })
            .on(
                "/stray",
                (request, out, socket) -> {
                  out.write(
                      join(
                          ScriptedUpstream.response(200, "stray"),
                          ScriptedUpstream.bytes("\r\nleft over\r\n")));
                  return true;
                })
            // An answer, then another once the connection is idle.
            .on(
                "/late",
                (request, out, socket) -> {
                  out.write(ScriptedUpstream.response(200, "late"));
                  out.flush();
                  Slime.sleep(75);
                  out.write(ScriptedUpstream.response(200, "LATE, for nobody"));
                  return true;
                });
    hub = Slime.hub();
    agents = Slime.agent(hub, Slime.token("isolation"), upstream.address(), 1, "isolation");
    Slime.awaitWorkers(hub, 1, "/warm");
  }

  @AfterAll
  static void stop() {
    Slime.closeAll(agents, hub, upstream);
  }

  @BeforeEach
  void warm() {
    // The misbehaving answer comes on a kept-alive connection, as in production.
    assertEquals("/warm", get("/warm").body());
    upstream.clear();
  }

  @Test
  void shouldGiveEachRequestItsOwnAnswerAfterAnExtraResponse() throws Exception {
    assertAnswersStayTheirOwn("/extra", "extra");
  }

  @Test
  void shouldGiveEachRequestItsOwnAnswerAfterStrayBytes() throws Exception {
    assertAnswersStayTheirOwn("/stray", "stray");
  }

  @Test
  void shouldGiveEachRequestItsOwnAnswerAfterALateExtraResponse() throws Exception {
    assertAnswersStayTheirOwn("/late", "late");
  }

  private static void assertAnswersStayTheirOwn(String target, String answer) throws Exception {
    HttpResponse<String> first = get(target);
    assertEquals(200, first.statusCode());
    assertEquals(answer, first.body(), "the request answered in full keeps its answer");
    // The agent closes the connection the stray bytes came on (the late ones come while idle).
    assertEquals(target, upstream.awaitClose(5000), "the connection with stray bytes stays open");
    for (int i = 1; i <= 3; i++) {
      HttpResponse<String> next = get("/echo?next" + i);
      assertEquals(200, next.statusCode(), next.body());
      assertEquals("/echo?next" + i, next.body());
    }
    assertEquals(1, upstream.count(target), "the upstream saw the request more than once");
  }

  private static HttpResponse<String> get(String target) {
    return Client.get(Slime.url(hub, target));
  }

  private static byte[] join(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }
}
