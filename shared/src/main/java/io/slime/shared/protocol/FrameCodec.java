package io.slime.shared.protocol;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.util.ByteIterator;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;

/**
 * Binary encoding of {@link Frame}s, one per WebSocket message. Hand-written rather than JSON
 * because it runs twice per request on the hot path and carries bodies without base64.
 *
 * <pre>
 * frame         = kind:u8 exchange:i32 payload
 * RequestStart  = flags:u8 method:str target:str contentType:str contentLength:i64 headers body
 * ResponseStart = flags:u8 status:u16 contentType:str contentLength:i64 headers body
 * BodyChunk     = flags:u8 body
 * Cancel        = (empty)
 * Failure       = reason:str [kind:u8 [flags:u8]]   (absent: UNREACHABLE, no flags)
 * Heartbeat     = (empty; exchange 0)
 * Report        = json:str (exchange 0)
 * headers       = count:varint (name:str value:str)*
 * str           = length:varint utf8-bytes
 * body          = every remaining byte of the message
 * flags         = bit 0: last (the body ends with this frame); in Failure, bit 0: resent
 * </pre>
 */
public final class FrameCodec {
  /** Largest message a peer may send; larger ones close the connection. */
  public static final int MAX_FRAME_BYTES = 2 * 1024 * 1024;

  private static final ByteOrder ORDER = ByteOrder.BIG_ENDIAN;
  private static final byte REQUEST_START = 1;
  private static final byte RESPONSE_START = 2;
  private static final byte BODY_CHUNK = 3;
  private static final byte CANCEL = 4;
  private static final byte FAILURE = 5;
  private static final byte HEARTBEAT = 6;
  private static final byte REPORT = 7;
  private static final int LAST = 1;
  private static final int RESENT = 1;
  private static final Frame.Failure.Kind[] KINDS = Frame.Failure.Kind.values();

  /** kind, exchange and flags. */
  private static final int BODY_CHUNK_HEAD = 6;

  private FrameCodec() {}

  public static ByteString encode(Frame frame) {
    ByteStringBuilder out = new ByteStringBuilder();
    if (frame instanceof Frame.RequestStart f) {
      head(out, REQUEST_START, f.exchange(), f.last());
      putString(out, f.method());
      putString(out, f.target());
      putString(out, f.contentType());
      out.putLong(f.contentLength(), ORDER);
      putHeaders(out, f.headers());
      out.append(f.body());
    } else if (frame instanceof Frame.ResponseStart f) {
      head(out, RESPONSE_START, f.exchange(), f.last());
      out.putShort(f.status(), ORDER);
      putString(out, f.contentType());
      out.putLong(f.contentLength(), ORDER);
      putHeaders(out, f.headers());
      out.append(f.body());
    } else if (frame instanceof Frame.BodyChunk f) {
      head(out, BODY_CHUNK, f.exchange(), f.last());
      out.append(f.bytes());
    } else if (frame instanceof Frame.Cancel f) {
      out.putByte(CANCEL).putInt(f.exchange(), ORDER);
    } else if (frame instanceof Frame.Failure f) {
      out.putByte(FAILURE).putInt(f.exchange(), ORDER);
      putString(out, f.reason());
      // After the reason, where peers that know no kinds stop reading.
      out.putByte((byte) f.kind().ordinal());
      out.putByte((byte) (f.resent() ? RESENT : 0));
    } else if (frame instanceof Frame.Heartbeat) {
      out.putByte(HEARTBEAT).putInt(0, ORDER);
    } else if (frame instanceof Frame.Report f) {
      out.putByte(REPORT).putInt(0, ORDER);
      putString(out, f.json());
    }
    return out.result();
  }

  /** Decodes one message; throws {@link ProtocolException} on anything malformed. */
  public static Frame decode(ByteString message) {
    if (message.size() > MAX_FRAME_BYTES) {
      throw new ProtocolException("frame of " + message.size() + " bytes exceeds the limit");
    }
    if (!message.isEmpty() && message.apply(0) == BODY_CHUNK) {
      return bodyChunk(message);
    }
    // toArrayUnsafe avoids a copy for the usual single-array message; the buffer is only read.
    ByteBuffer in = ByteBuffer.wrap(message.toArrayUnsafe()).order(ORDER);
    try {
      byte kind = in.get();
      int exchange = in.getInt();
      switch (kind) {
        case REQUEST_START -> {
          boolean last = (in.get() & LAST) != 0;
          String method = getString(in);
          String target = getString(in);
          String contentType = getString(in);
          long contentLength = in.getLong();
          List<Header> headers = getHeaders(in);
          return new Frame.RequestStart(
              exchange,
              method,
              target,
              headers,
              contentType,
              contentLength,
              last,
              rest(message, in));
        }
        case RESPONSE_START -> {
          boolean last = (in.get() & LAST) != 0;
          int status = in.getShort() & 0xFFFF;
          String contentType = getString(in);
          long contentLength = in.getLong();
          List<Header> headers = getHeaders(in);
          return new Frame.ResponseStart(
              exchange, status, headers, contentType, contentLength, last, rest(message, in));
        }
        case CANCEL -> {
          return new Frame.Cancel(exchange);
        }
        case FAILURE -> {
          return failure(exchange, in);
        }
        case HEARTBEAT -> {
          return new Frame.Heartbeat();
        }
        case REPORT -> {
          return new Frame.Report(getString(in));
        }
        default -> throw new ProtocolException("unknown frame kind " + kind);
      }
    } catch (BufferUnderflowException e) {
      throw new ProtocolException("truncated frame");
    }
  }

  /** A Failure from any peer: one without a kind (or with one unknown here) is UNREACHABLE. */
  private static Frame.Failure failure(int exchange, ByteBuffer in) {
    String reason = getString(in);
    Frame.Failure.Kind kind = Frame.Failure.Kind.UNREACHABLE;
    boolean resent = false;
    if (in.hasRemaining()) {
      int ordinal = in.get() & 0xFF;
      if (ordinal < KINDS.length) {
        kind = KINDS[ordinal];
      }
      resent = in.hasRemaining() && (in.get() & RESENT) != 0;
    }
    return new Frame.Failure(exchange, reason, kind, resent);
  }

  /** Bulk bodies travel as chunks: their bytes are sliced off as they came, never copied. */
  private static Frame.BodyChunk bodyChunk(ByteString message) {
    if (message.size() < BODY_CHUNK_HEAD) {
      throw new ProtocolException("truncated frame");
    }
    ByteIterator in = message.iterator();
    in.getByte(); // the kind
    int exchange = in.getInt(ORDER);
    boolean last = (in.getByte() & LAST) != 0;
    return new Frame.BodyChunk(exchange, message.drop(BODY_CHUNK_HEAD), last);
  }

  private static void head(ByteStringBuilder out, byte kind, int exchange, boolean last) {
    out.putByte(kind).putInt(exchange, ORDER).putByte((byte) (last ? LAST : 0));
  }

  private static void putHeaders(ByteStringBuilder out, List<Header> headers) {
    putVarInt(out, headers.size());
    for (Header h : headers) {
      putString(out, h.name());
      putString(out, h.value());
    }
  }

  private static List<Header> getHeaders(ByteBuffer in) {
    int count = getVarInt(in);
    if (count > in.remaining()) {
      throw new ProtocolException("header count " + count + " exceeds the frame");
    }
    List<Header> headers = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      headers.add(new Header(getString(in), getString(in)));
    }
    return headers;
  }

  private static void putString(ByteStringBuilder out, String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    putVarInt(out, bytes.length);
    out.putBytes(bytes);
  }

  private static String getString(ByteBuffer in) {
    int length = getVarInt(in);
    if (length > in.remaining()) {
      throw new ProtocolException("string of " + length + " bytes exceeds the frame");
    }
    String s = new String(in.array(), in.position(), length, StandardCharsets.UTF_8);
    in.position(in.position() + length);
    return s;
  }

  private static void putVarInt(ByteStringBuilder out, int value) {
    while ((value & ~0x7F) != 0) {
      out.putByte((byte) ((value & 0x7F) | 0x80));
      value >>>= 7;
    }
    out.putByte((byte) value);
  }

  private static int getVarInt(ByteBuffer in) {
    int value = 0;
    for (int shift = 0; shift < 32; shift += 7) {
      byte b = in.get();
      value |= (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        if (value < 0) {
          throw new ProtocolException("negative length");
        }
        return value;
      }
    }
    throw new ProtocolException("varint too long");
  }

  private static ByteString rest(ByteString message, ByteBuffer in) {
    return message.drop(in.position());
  }
}
