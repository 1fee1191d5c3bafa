package io.slime.hub.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slime.hub.model.ProxyError;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;

class RequestFramerTest {
  private static final String GET = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";

  private static RequestFramer framer() {
    return new RequestFramer(4096, 1 << 20, 256, 8);
  }

  private static ByteString bytes(String latin1) {
    return ByteString.fromArray(latin1.getBytes(StandardCharsets.ISO_8859_1));
  }

  /** Every stop as "STOP@index", feeding {@code data} in pieces of {@code piece} bytes. */
  private static List<String> stops(RequestFramer framer, String data, int piece) {
    ByteString all = bytes(data);
    List<String> stops = new ArrayList<>();
    for (int start = 0; start < all.size(); start += piece) {
      ByteString part = all.slice(start, Math.min(all.size(), start + piece));
      int i = 0;
      do {
        i = framer.scan(part, i);
        if (framer.stop() != RequestFramer.Stop.MORE) {
          stops.add(framer.stop() + "@" + (start + i));
        }
        if (framer.stop() == RequestFramer.Stop.REFUSED) {
          return stops;
        }
      } while (i < part.size() || framer.stop() != RequestFramer.Stop.MORE);
    }
    return stops;
  }

  private static List<String> stops(String data) {
    return stops(framer(), data, Integer.MAX_VALUE);
  }

  private static RequestFramer.Refusal refusal(String data) {
    RequestFramer framer = framer();
    List<String> seen = stops(framer, data, Integer.MAX_VALUE);
    assertTrue(seen.get(seen.size() - 1).startsWith("REFUSED"), "refused: " + seen);
    return framer.refusal();
  }

  @Test
  void shouldFrameABodilessRequest() {
    int end = GET.length();
    assertEquals(List.of("HEAD_START@0", "HEAD_END@" + end, "REQUEST_END@" + end), stops(GET));
  }

  @Test
  void shouldFramePipelinedRequestsWithLengthAndChunkedBodies() {
    String post = "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n\u00e9\u0000\r\n\r";
    String chunked =
        "PUT /c HTTP/1.1\r\nHost: h\r\ntransfer-encoding:  Chunked \r\n\r\n"
            + "5;name=\"v\"\r\nab\r\nc\r\n"
            + "0\r\nX-Trailer: t\r\n\r\n";
    String all = post + chunked + GET;
    int a = post.length();
    int b = a + chunked.length();
    List<String> expected =
        List.of(
            "HEAD_START@0",
            "HEAD_END@" + (post.length() - 5),
            "REQUEST_END@" + a,
            "HEAD_START@" + a,
            "HEAD_END@" + (a + chunked.indexOf("\r\n\r\n") + 4),
            "REQUEST_END@" + b,
            "HEAD_START@" + b,
            "HEAD_END@" + all.length(),
            "REQUEST_END@" + all.length());
    assertEquals(expected, stops(all));
    for (int piece = 1; piece < 12; piece++) {
      assertEquals(expected, stops(framer(), all, piece), "in pieces of " + piece);
    }
  }

  @Test
  void shouldRefuseTheSmugglingBytesAtTheirFirstByte() {
    String smuggle =
        "POST /a HTTP/1.1\r\nHost: h\r\nX-L: a\u00e9\r\n\r\nX-Injected-From-Body: 1\r\n\r\n";
    RequestFramer framer = framer();
    List<String> seen = stops(framer, smuggle, Integer.MAX_VALUE);
    assertEquals(List.of("HEAD_START@0", "REFUSED@" + smuggle.indexOf('\u00e9')), seen);
    assertEquals(ProxyError.BAD_HEADER, framer.refusal().error());
    assertTrue(framer.refusal().reason().contains("0xE9"), framer.refusal().reason());
  }

  @Test
  void shouldRefuseBytesAHeadMayNotHold() {
    for (String head :
        List.of(
            "GET /a HTTP/1.1\r\nHost: h\nX: 1\r\n\r\n",
            "GET /a HTTP/1.1\r\nHost: h\rX: 1\r\n\r\n",
            "GET /a HTTP/1.1\r\nHost: h\u0000\r\n\r\n",
            "GET /a HTTP/1.1\r\nHost: h\u007f\r\n\r\n",
            "GET /a HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n",
            "GET /a HTTP/1.1\r\nHost : h\r\n\r\n",
            "GET /a HTTP/1.1\r\n: h\r\n\r\n",
            "GET /\u00e9 HTTP/1.1\r\nHost: h\r\n\r\n",
            "GET  /a HTTP/1.1\r\nHost: h\r\n\r\n",
            "G\u00c3T /a HTTP/1.1\r\nHost: h\r\n\r\n",
            "\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n",
            "GET /a HTTP/1.1 \r\nHost: h\r\n\r\n",
            "GET /a HTTP/1.1\r\nHost: h\r\n\r\r\n",
            "GET /a HTTP/1.1\r\nConnection: keep-alive\r\nconnection: X-Secret\r\n\r\n")) {
      assertEquals(ProxyError.BAD_HEADER, refusal(head).error(), head);
    }
  }

  @Test
  void shouldRefuseFramingItCannotBeSureOf() {
    String h = "POST /a HTTP/1.1\r\nHost: h\r\n";
    assertEquals(
        ProxyError.BAD_FRAMING,
        refusal(h + "Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n").error());
    assertEquals(
        ProxyError.BAD_FRAMING,
        refusal(h + "Content-Length: 1\r\nContent-Length: 1\r\n\r\n").error());
    assertEquals(ProxyError.BAD_FRAMING, refusal(h + "Content-Length: 1,1\r\n\r\n").error());
    assertEquals(ProxyError.BAD_FRAMING, refusal(h + "Content-Length: -1\r\n\r\n").error());
    assertEquals(
        ProxyError.BAD_FRAMING, refusal(h + "Content-Length: 1234567890123456789\r\n\r\n").error());
    assertEquals(
        ProxyError.BAD_FRAMING,
        refusal(h + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n").error());
    assertEquals(
        ProxyError.BAD_FRAMING,
        refusal(h + "Transfer-Encoding: chunked" + " ".repeat(70) + "x\r\n\r\n").error());
    assertEquals(
        ProxyError.NOT_IMPLEMENTED,
        refusal(h + "Transfer-Encoding: gzip, chunked\r\n\r\n").error());
    assertEquals(
        ProxyError.BAD_FRAMING,
        refusal("POST /a HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n").error());
    assertEquals(
        ProxyError.VERSION_NOT_SUPPORTED, refusal("GET /a HTTP/2.0\r\nHost: h\r\n\r\n").error());
  }

  @Test
  void shouldRefuseMalformedChunksInsideTheBody() {
    String h = "POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (String body :
        List.of(
            "5 5\r\n",
            " 5\r\n",
            "5\n",
            "0x5\r\n",
            "5\r\nabcdef\r\n",
            "5\r\nabcde\n",
            "5;\u00e9\r\n",
            "200000\r\n",
            "5;" + "e".repeat(300) + "\r\n",
            "0\r\nX: \u00e9\r\n\r\n",
            "0\r\nX: 1\r\r\n",
            "0\r\n" + "X: 1\r\n".repeat(9) + "\r\n")) {
      RequestFramer framer = framer();
      List<String> seen = stops(framer, h + body, Integer.MAX_VALUE);
      assertTrue(seen.get(seen.size() - 1).startsWith("REFUSED"), body + ": " + seen);
      assertTrue(framer.inBody(), body);
      ProxyError error = framer.refusal().error();
      // A trailer line is a header line: its bytes break the header rules.
      assertEquals(
          body.startsWith("0\r\nX") && !body.contains("X: 1\r\nX")
              ? ProxyError.BAD_HEADER
              : ProxyError.BAD_FRAMING,
          error,
          body);
    }
  }

  @Test
  void shouldBoundTheHead() {
    RequestFramer.Refusal refused =
        refusal("GET /a HTTP/1.1\r\nHost: h\r\nX: " + "v".repeat(5000) + "\r\n\r\n");
    assertEquals(ProxyError.HEADERS_TOO_LARGE, refused.error());
  }

  @Test
  void shouldTellWhereItIs() {
    RequestFramer framer = framer();
    framer.scan(bytes("GET /a HT"), 0);
    framer.scan(bytes("GET /a HT"), 0);
    assertTrue(framer.inHead());
    assertFalse(framer.inBody());
    RequestFramer body = framer();
    stops(body, "POST /a HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc", Integer.MAX_VALUE);
    assertFalse(body.inHead());
    assertTrue(body.inBody());
  }

  @Test
  void shouldNoticeUpgradesOfGetOnly() {
    RequestFramer framer = framer();
    stops(framer, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n", 100);
    assertTrue(framer.upgrade());
    RequestFramer post = framer();
    stops(post, "POST /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n", 100);
    assertFalse(post.upgrade());
    RequestFramer plain = framer();
    stops(plain, GET, 100);
    assertFalse(plain.upgrade());
  }
}
