package io.slime.shared.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;
import org.junit.jupiter.api.Test;

class FrameCodecTest {

  private static final ByteOrder BE = ByteOrder.BIG_ENDIAN;

  private static final List<Header> HEADERS =
      List.of(
          new Header("Content-Type", "application/json"),
          new Header("X-Unicode", "naïve café ☃ 𝄞 日本語"),
          new Header("X-Empty", ""),
          new Header("Set-Cookie", "a=1"),
          new Header("Set-Cookie", "b=2"));

  private static final ByteString SMALL = ByteString.fromString("{\"hello\":\"wörld\"}");

  /** One of every kind, with the corner cases each field has. */
  private static List<Frame> samples() {
    return List.of(
        new Frame.RequestStart(
            1, "POST", "/v1/chat?q=é&x=1", HEADERS, "application/json", SMALL.size(), true, SMALL),
        new Frame.RequestStart(
            Integer.MAX_VALUE,
            "GET",
            "/",
            List.of(),
            "",
            Frame.UNKNOWN_LENGTH,
            false,
            ByteString.emptyByteString()),
        new Frame.RequestStart(
            -7, "PUT", "/upload", HEADERS, "application/octet-stream", 5L << 32, false, SMALL),
        new Frame.ResponseStart(2, 200, HEADERS, "text/plain; charset=utf-8", 3, true, bytes(3)),
        new Frame.ResponseStart(
            3, 65535, List.of(), "", Frame.UNKNOWN_LENGTH, false, ByteString.emptyByteString()),
        new Frame.ResponseStart(4, 0, List.of(), "", 0, true, ByteString.emptyByteString()),
        new Frame.BodyChunk(5, bytes(1), false),
        new Frame.BodyChunk(5, ByteString.emptyByteString(), true),
        new Frame.BodyChunk(0, bytes(FrameCodec.MAX_FRAME_BYTES - 6), true),
        new Frame.Cancel(6),
        new Frame.Failure(7, "upstream refused: connexion refusée ✗"),
        new Frame.Failure(8, ""),
        new Frame.Failure(9, "no head in 10m", Frame.Failure.Kind.TIMEOUT, false),
        new Frame.Failure(10, "malformed response", Frame.Failure.Kind.MALFORMED, true),
        new Frame.Failure(11, "header X", Frame.Failure.Kind.CANCELLED, false),
        new Frame.Heartbeat(),
        new Frame.Report("{\"healthy\":false,\"healthDetail\":\"status 503 ✗\"}"));
  }

  @Test
  void shouldRoundTripEveryKind() {
    for (Frame frame : samples()) {
      assertEquals(frame, FrameCodec.decode(FrameCodec.encode(frame)), () -> describe(frame));
    }
  }

  @Test
  void shouldRoundTripALargeStartBody() {
    ByteString body = bytes(1024 * 1024);
    Frame frame = new Frame.ResponseStart(9, 201, HEADERS, "image/png", body.size(), true, body);

    Frame decoded = FrameCodec.decode(FrameCodec.encode(frame));

    assertEquals(frame, decoded);
    assertEquals(body, ((Frame.ResponseStart) decoded).body());
  }

  @Test
  void shouldDecodeAMessageMadeOfSeveralPieces() {
    // Messages joined from a streamed WebSocket message are not one backing array.
    Frame frame = samples().get(0);
    ByteString encoded = FrameCodec.encode(frame);
    ByteString pieces = ByteString.emptyByteString();
    for (int i = 0; i < encoded.size(); i += 3) {
      pieces = pieces.concat(encoded.slice(i, Math.min(i + 3, encoded.size())).compact());
    }

    assertEquals(frame, FrameCodec.decode(pieces));
    assertEquals(frame, FrameCodec.decode(ByteString.fromString("xx").concat(encoded).drop(2)));
  }

  @Test
  void shouldSliceABodyChunkOutOfAJoinedMessageWithoutCopyingIt() {
    ByteString body = bytes(64 * 1024).concat(bytes(64 * 1024));
    ByteString joined =
        FrameCodec.encode(new Frame.BodyChunk(3, ByteString.emptyByteString(), true));
    joined = joined.concat(body.take(64 * 1024)).concat(body.drop(64 * 1024));

    Frame.BodyChunk decoded = (Frame.BodyChunk) FrameCodec.decode(joined);

    assertEquals(new Frame.BodyChunk(3, body, true), decoded);
    // Still the pieces it arrived in: the bulk of a download is never copied into one array.
    assertFalse(decoded.bytes().isCompact());
  }

  @Test
  void shouldRejectAnEmptyMessage() {
    assertThrows(ProtocolException.class, () -> FrameCodec.decode(ByteString.emptyByteString()));
  }

  @Test
  void shouldRejectAnUnknownKind() {
    for (int kind : new int[] {0, 8, 42, 255}) {
      ByteString message =
          new ByteStringBuilder().putByte((byte) kind).putInt(1, BE).putByte((byte) 0).result();
      ProtocolException e = assertThrows(ProtocolException.class, () -> FrameCodec.decode(message));
      assertTrue(e.getMessage().contains("unknown"), e.getMessage());
    }
  }

  @Test
  void shouldRejectEveryTruncatedHead() {
    for (Frame frame : samples()) {
      ByteString encoded = FrameCodec.encode(frame);
      // A Failure's kind and flags are optional: peers without kinds stop after the reason.
      int optional = frame instanceof Frame.Failure ? 2 : 0;
      int headLength = encoded.size() - bodyOf(frame).size() - optional;
      for (int cut = 0; cut < headLength; cut++) {
        ByteString truncated = encoded.take(cut);
        assertThrows(
            ProtocolException.class,
            () -> FrameCodec.decode(truncated),
            () -> describe(frame) + " cut at " + truncated.size());
      }
    }
  }

  @Test
  void shouldRejectAMessageOverTheLimit() {
    ByteString message =
        FrameCodec.encode(new Frame.BodyChunk(1, bytes(FrameCodec.MAX_FRAME_BYTES - 5), false));

    assertEquals(FrameCodec.MAX_FRAME_BYTES + 1, message.size());
    assertThrows(ProtocolException.class, () -> FrameCodec.decode(message));
  }

  @Test
  void shouldRejectLengthsLargerThanTheMessage() {
    // A Failure whose reason claims 1000 bytes but carries 3.
    ByteString longString =
        new ByteStringBuilder()
            .putByte((byte) 5)
            .putInt(1, BE)
            .putBytes(new byte[] {(byte) 0xE8, 0x07, 'a', 'b', 'c'})
            .result();
    // A RequestStart whose header count is the largest varint there is.
    ByteString manyHeaders =
        new ByteStringBuilder()
            .putByte((byte) 1)
            .putInt(1, BE)
            .putByte((byte) 0)
            .putBytes(new byte[] {3, 'G', 'E', 'T', 1, '/', 0})
            .putLong(0, BE)
            .putBytes(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07})
            .result();
    // Lengths that do not fit in an int: a negative one and one that never ends.
    ByteString negative =
        new ByteStringBuilder()
            .putByte((byte) 5)
            .putInt(1, BE)
            .putBytes(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F})
            .result();
    ByteString endless =
        new ByteStringBuilder()
            .putByte((byte) 5)
            .putInt(1, BE)
            .putBytes(new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80})
            .putBytes(new byte[] {(byte) 0x80, 0x01})
            .result();

    for (ByteString message : List.of(longString, manyHeaders, negative, endless)) {
      assertThrows(ProtocolException.class, () -> FrameCodec.decode(message));
    }
  }

  @Test
  void shouldThrowOnlyProtocolExceptionsForGarbage() {
    Random random = new Random(20261122L);
    List<ByteString> inputs = new ArrayList<>();
    for (int i = 0; i < 5_000; i++) {
      byte[] garbage = new byte[random.nextInt(40)];
      random.nextBytes(garbage);
      if (garbage.length > 0) {
        garbage[0] =
            (byte) (1 + random.nextInt(6)); // mostly known kinds, to get past the first byte
      }
      inputs.add(ByteString.fromArray(garbage));
    }
    for (Frame frame : samples()) {
      byte[] valid = FrameCodec.encode(frame).take(200).toArray();
      for (int i = 0; i < 200; i++) {
        byte[] mutated = valid.clone();
        mutated[random.nextInt(mutated.length)] = (byte) random.nextInt(256);
        inputs.add(ByteString.fromArray(mutated));
      }
    }

    for (ByteString input : inputs) {
      try {
        FrameCodec.decode(input);
      } catch (ProtocolException expected) {
        // the only failure allowed
      } catch (RuntimeException e) {
        fail("decoding " + input + " threw " + e, e);
      }
    }
  }

  @Test
  void shouldReadAFailureWithoutAKindAsUnreachable() {
    // What agents before failure kinds send: the reason and nothing after it.
    ByteString old =
        new ByteStringBuilder()
            .putByte((byte) 5)
            .putInt(3, ByteOrder.BIG_ENDIAN)
            .putByte((byte) 4)
            .putBytes("gone".getBytes(java.nio.charset.StandardCharsets.UTF_8))
            .result();
    assertEquals(
        new Frame.Failure(3, "gone", Frame.Failure.Kind.UNREACHABLE, false),
        FrameCodec.decode(old));
  }

  @Test
  void shouldReadAnUnknownKindAsUnreachable() {
    ByteString encoded =
        FrameCodec.encode(new Frame.Failure(3, "x", Frame.Failure.Kind.TIMEOUT, true));
    ByteString unknown =
        encoded.take(encoded.size() - 2).concat(ByteString.fromArray(new byte[] {(byte) 200, 1}));
    assertEquals(
        new Frame.Failure(3, "x", Frame.Failure.Kind.UNREACHABLE, true),
        FrameCodec.decode(unknown));
  }

  private static ByteString bytes(int size) {
    byte[] bytes = new byte[size];
    for (int i = 0; i < size; i++) {
      bytes[i] = (byte) (i * 31 + 7);
    }
    return ByteString.fromArrayUnsafe(bytes);
  }

  private static ByteString bodyOf(Frame frame) {
    if (frame instanceof Frame.RequestStart f) {
      return f.body();
    } else if (frame instanceof Frame.ResponseStart f) {
      return f.body();
    } else if (frame instanceof Frame.BodyChunk f) {
      return f.bytes();
    }
    return ByteString.emptyByteString();
  }

  private static String describe(Frame frame) {
    String text = frame.toString();
    return text.length() > 200 ? text.substring(0, 200) + "..." : text;
  }
}
