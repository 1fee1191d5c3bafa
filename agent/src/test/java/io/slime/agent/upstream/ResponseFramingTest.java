package io.slime.agent.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;

class ResponseFramingTest {
  private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
  private static final String CHUNKED =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-Trailer: t\r\n\r\n";

  private static ByteString bytes(String s) {
    return ByteString.fromArray(s.getBytes(StandardCharsets.ISO_8859_1));
  }

  /** Feeds {@code response} whole to a framer expecting {@code method}; returns the bytes taken. */
  private static int whole(ResponseFraming framing, String method, String response) {
    framing.expect(method);
    return framing.feed(bytes(response));
  }

  @Test
  void shouldTakeAResponseOfKnownLengthAndTurnIdle() {
    ResponseFraming framing = new ResponseFraming();
    assertEquals(OK.length(), whole(framing, "GET", OK));
    assertFalse(framing.awaiting());
    assertTrue(framing.reusable());
    assertTrue(framing.started());
  }

  @Test
  void shouldFrameTheSameResponseCutAnywhere() {
    for (String response : new String[] {OK, CHUNKED, "HTTP/1.1 204 No Content\r\n\r\n"}) {
      for (int cut = 0; cut <= response.length(); cut++) {
        ResponseFraming framing = new ResponseFraming();
        framing.expect("GET");
        assertEquals(cut, framing.feed(bytes(response.substring(0, cut))));
        assertEquals(cut < response.length(), framing.awaiting(), response + " cut at " + cut);
        assertEquals(response.length() - cut, framing.feed(bytes(response.substring(cut))));
        assertFalse(framing.awaiting(), response + " cut at " + cut);
      }
    }
  }

  @Test
  void shouldTakeOneByteAtATime() {
    ResponseFraming framing = new ResponseFraming();
    framing.expect("GET");
    for (byte b : CHUNKED.getBytes(StandardCharsets.ISO_8859_1)) {
      assertTrue(framing.awaiting());
      assertEquals(1, framing.feed(ByteString.fromArray(new byte[] {b})));
    }
    assertFalse(framing.awaiting());
    assertTrue(framing.reusable());
  }

  @Test
  void shouldLeaveASecondResponseInTheSameBytesAsStray() {
    ResponseFraming framing = new ResponseFraming();
    assertEquals(OK.length(), whole(framing, "GET", OK + OK));
    assertEquals(OK.length(), whole(new ResponseFraming(), "GET", OK + "\r\n"));
    assertEquals(CHUNKED.length(), whole(new ResponseFraming(), "GET", CHUNKED + "x"));
  }

  @Test
  void shouldCallEveryByteStrayWhileNoRequestIsInFlight() {
    ResponseFraming framing = new ResponseFraming();
    assertEquals(0, framing.feed(bytes(OK)));
    assertEquals(OK.length(), whole(framing, "GET", OK));
    assertEquals(0, framing.feed(bytes("H")));
    assertFalse(framing.started() && framing.awaiting());
  }

  @Test
  void shouldReadNoBodyWhereTheRulesSayThereIsNone() {
    String headWithLength = " OK\r\nContent-Length: 5\r\n\r\n";
    for (String status : new String[] {"204", "205", "304"}) {
      String response = "HTTP/1.1 " + status + headWithLength;
      assertEquals(response.length(), whole(new ResponseFraming(), "GET", response + "hello"));
    }
    String head = "HTTP/1.1 200" + headWithLength;
    assertEquals(head.length(), whole(new ResponseFraming(), "HEAD", head + "hello"));
  }

  @Test
  void shouldSkipInterimResponses() {
    String response =
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + OK;
    ResponseFraming framing = new ResponseFraming();
    framing.expect("POST");
    assertEquals(30, framing.feed(bytes(response.substring(0, 30))));
    assertTrue(framing.awaiting());
    assertEquals(response.length() - 30, framing.feed(bytes(response.substring(30) + "stray")));
    assertFalse(framing.awaiting());
  }

  @Test
  void shouldReadAnUndelimitedBodyToTheCloseAndNotReuseTheConnection() {
    ResponseFraming framing = new ResponseFraming();
    String response = "HTTP/1.1 200 OK\r\n\r\nall of this, " + OK;
    assertEquals(response.length(), whole(framing, "GET", response));
    assertTrue(framing.awaiting());
    assertFalse(framing.reusable());
  }

  @Test
  void shouldNotReuseAConnectionTheResponseCloses() {
    ResponseFraming closing = new ResponseFraming();
    whole(
        closing,
        "GET",
        "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n");
    assertFalse(closing.awaiting());
    assertFalse(closing.reusable());
    assertEquals(0, closing.feed(bytes("x")));

    ResponseFraming old = new ResponseFraming();
    whole(old, "GET", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
    assertFalse(old.reusable());

    ResponseFraming kept = new ResponseFraming();
    whole(kept, "GET", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
    assertTrue(kept.reusable());
  }

  @Test
  void shouldAcceptWhatPekkoAccepts() {
    String[] accepted = {
      "HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nx",
      "HTTP/1.1 200 OK\nContent-Length: 1\n\nx",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
      "HTTP/1.1 200 OK\r\nX-Name: caf\u00c3\u00a9 \u00e2\u0098\u0083\r\nContent-Length: 1\r\n\r\nx",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n1 \t\r\nx\n0\r\n\r\n",
      "HTTP/1.1 599 Whatever\r\nContent-Length:1\r\n\r\nx",
      "HTTP/1.1 200 OK\r\nX-Empty:\r\nX-Blank: \t \r\nContent-Length: 1\r\n\r\nx",
    };
    for (String response : accepted) {
      ResponseFraming framing = new ResponseFraming();
      assertEquals(response.length(), whole(framing, "GET", response + "!"), response);
      assertFalse(framing.awaiting(), response);
    }
  }

  @Test
  void shouldRefuseWhatPekkoCouldReadOtherwise() {
    String[] refused = {
      // A UTF-8 lead byte right before CR LF: Pekko swallows the line end.
      "HTTP/1.1 200 OK\r\nX-L: a\u00e9\r\n\r\nContent-Length: 1\r\n\r\nx",
      "HTTP/1.1 200 OK\r\nX-L: a\u00c3\r\nContent-Length: 1\r\n\r\nx",
      "HTTP/1.1 200 OK\r\nX-L: \u0080\r\nContent-Length: 1\r\n\r\nx",
      "HTTP/1.1 200 OK\r\nX-L: a\rb\r\nContent-Length: 1\r\n\r\nx",
      "HTTP/1.1 200 OK\r\nX-L: a\r\n b\r\nContent-Length: 1\r\n\r\nx",
      "HTTP/1.1 200 OK\r\nX-L: a\u0000b\r\nContent-Length: 1\r\n\r\nx",
      "HTTP/1.1 200 OK\r\nX L: a\r\nContent-Length: 1\r\n\r\nx",
      "HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\nx",
      "HTTP/1.1 200 OK\r\n: a\r\n\r\n",
      "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx",
      "HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\nx",
      // Pekko would hand on only the first: X-Secret would reach the application.
      "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection: X-Secret\r\n"
          + "X-Secret: 1\r\nContent-Length: 1\r\n\r\nx",
      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nx",
      "HTTP/1.1 200 OK\r\n"
          + "Content-Length: 1\r\n"
          + "Transfer-Encoding: chunked\r\n\r\n"
          + "1\r\n"
          + "x\r\n"
          + "0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\rz",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n80000000\r\n",
      "HTTP/1.2 200 OK\r\n\r\n",
      "HTTP/2 200 OK\r\n\r\n",
      "HTTP/1.1 20 OK\r\n\r\n",
      "HTTP/1.1 600 OK\r\n\r\n",
      "HTTP/1.1 099 OK\r\n\r\n",
      "HTTP/1.1 200OK\r\n\r\n",
      "\r\nHTTP/1.1 200 OK\r\n\r\n",
      "garbage\r\n\r\n",
    };
    for (String response : refused) {
      ResponseFraming framing = new ResponseFraming();
      framing.expect("GET");
      MalformedResponseException e =
          assertThrows(
              MalformedResponseException.class,
              () -> framing.feed(bytes(response)),
              () -> "accepted " + response.replace("\r", "\\r").replace("\n", "\\n"));
      assertTrue(e.getMessage().startsWith("malformed response: "), e.getMessage());
      assertFalse(framing.reusable());
    }
  }

  @Test
  void shouldRefuseAHeadThatNeverEnds() {
    ResponseFraming framing = new ResponseFraming();
    framing.expect("GET");
    framing.feed(bytes("HTTP/1.1 200 OK\r\n"));
    ByteString header = bytes("X-A: " + "a".repeat(1000) + "\r\n");
    assertThrows(
        MalformedResponseException.class,
        () -> {
          for (int i = 0; i < 100; i++) {
            framing.feed(header);
          }
        });
  }

  @Test
  void shouldTellWhetherAnyByteOfTheResponseArrived() {
    ResponseFraming framing = new ResponseFraming();
    framing.expect("GET");
    assertFalse(framing.started());
    framing.feed(bytes("H"));
    assertTrue(framing.started());
    framing.feed(bytes(OK.substring(1)));
    framing.expect("GET");
    assertFalse(framing.started());
  }

  @Test
  void shouldRefuseARequestWhileAResponseIsInFlight() {
    ResponseFraming framing = new ResponseFraming();
    framing.expect("GET");
    assertThrows(IllegalStateException.class, () -> framing.expect("GET"));
  }
}
