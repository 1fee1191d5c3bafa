package io.slime.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.slime.agent.Agents;
import io.slime.hub.Hub;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What reaches the upstream is what the application sent: no control byte, no made-up header. */
class UpstreamRequestIT {
  private static ScriptedUpstream upstream;
  private static Hub hub;
  private static Agents agents;

  @BeforeAll
  static void start() throws Exception {
    upstream = ScriptedUpstream.start();
    hub = Slime.hub();
    agents = Slime.agent(hub, Slime.token("requests"), upstream.address(), 1, "requests");
    Slime.awaitWorkers(hub, 1, "/warm");
  }

  @AfterAll
  static void stop() {
    Slime.closeAll(agents, hub, upstream);
  }

  @BeforeEach
  void clear() {
    upstream.clear();
  }

  @Test
  void shouldNeverWriteAControlByteForACharacterAboveLatin1() throws Exception {
    // U+0100 and U+2603 in UTF-8: written as their low bytes they would be NUL and 0x03.
    for (String character : new String[] {"\u0100", "\u2603"}) {
      try (RawHttp app = RawHttp.connect(hub.address().getPort())) {
        ByteArrayOutputStream request = new ByteArrayOutputStream();
        request.writeBytes(ascii("GET /snow HTTP/1.1\r\nHost: hub\r\nX-Snow: a"));
        request.writeBytes(character.getBytes(StandardCharsets.UTF_8));
        request.writeBytes(ascii("b\r\n\r\n"));
        app.write(request.toByteArray());
        RawHttp.Response response = app.read();
        assertEquals(400, response.status(), response.bodyText());
        assertEquals("bad-header", response.header("Slime-Error"));
      }
    }
    assertEquals(0, upstream.count("/snow"), "the request reached the upstream");
  }

  @Test
  void shouldSendOptionsAsteriskAsIt() throws Exception {
    try (RawHttp app = RawHttp.connect(hub.address().getPort())) {
      app.send("OPTIONS", "*");
      RawHttp.Response response = app.read();
      assertEquals(200, response.status(), response.bodyText());
    }
    ScriptedUpstream.Request arrived = upstream.awaitRequest(5000);
    assertEquals("OPTIONS", arrived.method());
    assertEquals("*", arrived.target());
  }

  @Test
  void shouldAddNoContentTypeTheApplicationDidNotSend() throws Exception {
    try (RawHttp app = RawHttp.connect(hub.address().getPort())) {
      app.write(ascii("POST /none HTTP/1.1\r\nHost: hub\r\nContent-Length: 5\r\n\r\nhello"));
      assertEquals(200, app.read().status());
      app.write(
          ascii(
              "POST /given HTTP/1.1\r\nHost: hub\r\nContent-Type: application/octet-stream\r\n"
                  + "Content-Length: 5\r\n\r\nhello"));
      assertEquals(200, app.read().status());
    }
    ScriptedUpstream.Request none = upstream.awaitRequest(5000);
    assertEquals("/none", none.target());
    assertEquals("hello", new String(none.body(), StandardCharsets.US_ASCII));
    assertNull(none.header("Content-Type"), none.head());
    ScriptedUpstream.Request given = upstream.awaitRequest(5000);
    assertEquals("application/octet-stream", given.header("Content-Type"), given.head());
  }

  private static byte[] ascii(String text) {
    return text.getBytes(StandardCharsets.US_ASCII);
  }
}
