package io.slime.hub.http;

import io.slime.hub.model.ProxyError;
import org.apache.pekko.util.ByteString;

/**
 * Finds where each request on an HTTP/1.1 connection starts and ends, and checks the bytes of its
 * head, and of a chunked body's framing, before Pekko's parser reads them. One per connection, fed
 * the connection's bytes in order; body bytes are skipped, never read.
 *
 * <p>Stricter than RFC 9112 wherever a lenient reading could differ from Pekko's, so that a request
 * it passes is framed the same way by both:
 *
 * <ul>
 *   <li>request line: a method token, one SP, a target of visible ASCII, one SP, {@code HTTP/1.0}
 *       or {@code HTTP/1.1}, CRLF; no empty lines before it
 *   <li>header lines (and trailer lines): a token name directly followed by ':', a value of visible
 *       ASCII, SP and HTAB, CRLF. No obs-text (bytes of 0x80 and above: Pekko's parser takes a
 *       UTF-8 lead byte as the start of a character and can swallow the CR LF after it), no other
 *       control bytes, no lone CR or LF, no obs-fold
 *   <li>framing: at most one Content-Length, of digits; at most one Transfer-Encoding, exactly
 *       {@code chunked}, never with Content-Length, never in HTTP/1.0; neither means no body
 *   <li>at most one Connection header: Pekko hands on only the first, so the names a second one
 *       lists would not be dropped as hop-by-hop
 *   <li>chunks: a hex size without whitespace, at most {@code maxChunkSize}; an optional {@code ;}
 *       extension of visible ASCII, SP and HTAB, at most {@code maxExtension} bytes; CRLF; the
 *       data; CRLF; after the last chunk, trailer lines and an empty line
 * </ul>
 *
 * Anything else is refused: after {@link Stop#REFUSED} the framer reads nothing more, since where
 * the next request starts is no longer certain.
 */
final class RequestFramer {

  /** What {@link #scan} stopped at. */
  enum Stop {
    /** Every byte given was read; more are needed. */
    MORE,
    /** A request starts at the returned index (nothing read yet). */
    HEAD_START,
    /** The request's head ends just before the returned index. */
    HEAD_END,
    /** The request, body included, ends just before the returned index. */
    REQUEST_END,
    /** The byte at the returned index (or the head just read) breaks the rules. */
    REFUSED
  }

  /** Why a request was refused, and the answer it gets. */
  record Refusal(ProxyError error, String reason) {}

  private static final int BOUNDARY = 0;
  private static final int METHOD = 1;
  private static final int TARGET_START = 2;
  private static final int TARGET = 3;
  private static final int VERSION = 4;
  private static final int LINE_LF = 5;
  private static final int FIELD_START = 6;
  private static final int NAME = 7;
  private static final int VALUE = 8;
  private static final int VALUE_LF = 9;
  private static final int END_LF = 10;
  private static final int BODYLESS_END = 11;
  private static final int LENGTH_BODY = 12;
  private static final int SIZE_START = 13;
  private static final int SIZE = 14;
  private static final int EXTENSION = 15;
  private static final int SIZE_LF = 16;
  private static final int CHUNK_DATA = 17;
  private static final int DATA_CR = 18;
  private static final int DATA_LF = 19;

  private static final int CR = '\r';
  private static final int LF = '\n';
  private static final int SP = ' ';
  private static final int HTAB = '\t';

  /** Longest header value worth keeping: the values of the few headers that frame a request. */
  private static final int MAX_KEPT = 64;

  private static final boolean[] TCHAR = new boolean[128];

  static {
    for (char c = '0'; c <= '9'; c++) {
      TCHAR[c] = true;
    }
    for (char c = 'a'; c <= 'z'; c++) {
      TCHAR[c] = true;
      TCHAR[Character.toUpperCase(c)] = true;
    }
    for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
      TCHAR[c] = true;
    }
  }

  private enum Field {
    OTHER,
    CONTENT_LENGTH,
    TRANSFER_ENCODING,
    UPGRADE,
    CONNECTION
  }

  private final int maxHeadBytes;
  private final long maxChunkSize;
  private final int maxExtension;
  private final int maxTrailerLines;

  private int state = BOUNDARY;
  private Stop stop = Stop.MORE;

  /** Set once refused; the state stays where the refusal happened. */
  private Refusal refusal;

  // The request being read.
  private int headBytes;
  private final StringBuilder method = new StringBuilder(8);
  private final StringBuilder version = new StringBuilder(8);
  private final StringBuilder name = new StringBuilder(MAX_KEPT);
  private final StringBuilder value = new StringBuilder(MAX_KEPT);
  private Field field;
  private int lengthHeaders;
  private long contentLength;
  private int encodingHeaders;
  private int connectionHeaders;
  private boolean upgradeHeader;
  private boolean upgrade;
  private boolean trailer;
  private int trailerLines;
  private long remaining;
  private long chunkSize;
  private int extensionBytes;

  /**
   * {@code maxHeadBytes} bounds a head (it is held whole until checked); chunks and their
   * extensions are bounded as Pekko's parser bounds them, so a refusal comes from here, in order.
   */
  RequestFramer(int maxHeadBytes, long maxChunkSize, int maxExtension, int maxTrailerLines) {
    this.maxHeadBytes = maxHeadBytes;
    this.maxChunkSize = maxChunkSize;
    this.maxExtension = maxExtension;
    this.maxTrailerLines = maxTrailerLines;
  }

  /**
   * Reads {@code data} from {@code from} up to the next {@link #stop()}, and returns the index it
   * stopped at: {@code data.size()} for {@link Stop#MORE}.
   */
  int scan(ByteString data, int from) {
    if (refusal != null) {
      throw new IllegalStateException("the framer refused this connection's bytes");
    }
    int size = data.size();
    int i = from;
    stop = Stop.MORE;
    while (i < size) {
      switch (state) {
        case BOUNDARY -> {
          startRequest();
          return stopAt(Stop.HEAD_START, i);
        }
        case BODYLESS_END -> {
          state = BOUNDARY;
          return stopAt(Stop.REQUEST_END, i);
        }
        case LENGTH_BODY -> {
          int n = (int) Math.min(remaining, size - i);
          i += n;
          remaining -= n;
          if (remaining == 0) {
            state = BOUNDARY;
            return stopAt(Stop.REQUEST_END, i);
          }
        }
        case CHUNK_DATA -> {
          int n = (int) Math.min(remaining, size - i);
          i += n;
          remaining -= n;
          if (remaining == 0) {
            state = DATA_CR;
          }
        }
        default -> {
          int b = data.apply(i) & 0xFF;
          if (inHead() && ++headBytes > maxHeadBytes) {
            return refuse(
                i, ProxyError.HEADERS_TOO_LARGE, "the head is over " + maxHeadBytes + " bytes");
          }
          Stop result = step(b);
          i++;
          if (result == Stop.REFUSED) {
            return stopAt(Stop.REFUSED, i - 1);
          }
          if (result != Stop.MORE) {
            return stopAt(result, i);
          }
        }
      }
    }
    if (state == BODYLESS_END) {
      state = BOUNDARY;
      return stopAt(Stop.REQUEST_END, i);
    }
    return i;
  }

  Stop stop() {
    return stop;
  }

  /** Why the request was refused, after {@link Stop#REFUSED}. */
  Refusal refusal() {
    return refusal;
  }

  /** Between the first byte of a request and the end of its head (when refused: there). */
  boolean inHead() {
    return state >= METHOD && state <= END_LF && !trailer;
  }

  /** After a request's head, before its end (when refused: there). */
  boolean inBody() {
    return state >= LENGTH_BODY && state <= DATA_LF || trailer;
  }

  /**
   * Whether the request whose head just ended asks to switch protocols (a GET with Upgrade): what
   * follows it may not be HTTP at all.
   */
  boolean upgrade() {
    return upgrade;
  }

  private int stopAt(Stop at, int index) {
    stop = at;
    return index;
  }

  private int refuse(int index, ProxyError error, String reason) {
    refusal = new Refusal(error, reason);
    return stopAt(Stop.REFUSED, index);
  }

  private Stop refuse(ProxyError error, String reason) {
    refusal = new Refusal(error, reason);
    return Stop.REFUSED;
  }

  private void startRequest() {
    state = METHOD;
    headBytes = 0;
    method.setLength(0);
    version.setLength(0);
    lengthHeaders = 0;
    contentLength = 0;
    encodingHeaders = 0;
    connectionHeaders = 0;
    upgradeHeader = false;
    upgrade = false;
    trailer = false;
  }

  /** One byte of a head, a chunk-size line or a trailer. */
  private Stop step(int b) {
    switch (state) {
      case METHOD -> {
        if (b == SP && method.length() > 0) {
          state = TARGET_START;
        } else if (isTchar(b)) {
          if (method.length() < 8) {
            method.append((char) b);
          }
        } else {
          return refuse(ProxyError.BAD_HEADER, "the request line " + describe(b));
        }
      }
      case TARGET_START, TARGET -> {
        if (b == SP && state == TARGET) {
          state = VERSION;
        } else if (b > SP && b < 0x7F) {
          state = TARGET;
        } else {
          return refuse(ProxyError.BAD_HEADER, "the request target " + describe(b));
        }
      }
      case VERSION -> {
        if (b == CR) {
          return endVersion();
        }
        if (b <= SP || b >= 0x7F || version.length() == 8) {
          return refuse(ProxyError.BAD_HEADER, "the request line is malformed");
        }
        version.append((char) b);
      }
      case LINE_LF, VALUE_LF -> {
        if (b != LF) {
          return refuse(ProxyError.BAD_HEADER, "a CR is not followed by LF");
        }
        if (state == LINE_LF) {
          state = FIELD_START;
          return Stop.MORE;
        }
        return endField();
      }
      case FIELD_START -> {
        if (b == CR) {
          state = END_LF;
        } else if (isTchar(b)) {
          if (trailer && ++trailerLines > maxTrailerLines) {
            return refuse(ProxyError.BAD_FRAMING, "more than " + maxTrailerLines + " trailers");
          }
          name.setLength(0);
          name.append((char) (b | 0x20));
          state = NAME;
        } else if (b == SP || b == HTAB) {
          return refuse(ProxyError.BAD_HEADER, "a header line is folded (obs-fold)");
        } else {
          return refuse(ProxyError.BAD_HEADER, "a header name " + describe(b));
        }
      }
      case NAME -> {
        if (b == ':') {
          startValue();
        } else if (isTchar(b)) {
          if (name.length() < MAX_KEPT) {
            name.append((char) (b | 0x20));
          }
        } else {
          return refuse(ProxyError.BAD_HEADER, "a header name " + describe(b));
        }
      }
      case VALUE -> {
        if (b == CR) {
          state = VALUE_LF;
        } else if (b == HTAB || (b >= SP && b < 0x7F)) {
          if (keepValue() && value.length() <= MAX_KEPT) {
            value.append((char) b); // one past the limit marks it too long
          }
        } else {
          return refuse(ProxyError.BAD_HEADER, "a header value " + describe(b));
        }
      }
      case END_LF -> {
        if (b != LF) {
          return refuse(ProxyError.BAD_HEADER, "a CR is not followed by LF");
        }
        if (trailer) {
          trailer = false;
          state = BOUNDARY;
          return Stop.REQUEST_END;
        }
        return endHead();
      }
      case SIZE_START, SIZE -> {
        int digit = Character.digit(b, 16);
        if (digit >= 0) {
          chunkSize = chunkSize * 16 + digit;
          if (chunkSize > maxChunkSize) {
            return refuse(ProxyError.BAD_FRAMING, "a chunk is over " + maxChunkSize + " bytes");
          }
          state = SIZE;
        } else if (state == SIZE && b == ';') {
          extensionBytes = 0;
          state = EXTENSION;
        } else if (state == SIZE && b == CR) {
          state = SIZE_LF;
        } else {
          return refuse(ProxyError.BAD_FRAMING, "a chunk size " + describe(b));
        }
      }
      case EXTENSION -> {
        if (b == CR) {
          state = SIZE_LF;
        } else if (b == HTAB || (b >= SP && b < 0x7F)) {
          if (++extensionBytes > maxExtension) {
            return refuse(
                ProxyError.BAD_FRAMING, "a chunk extension is over " + maxExtension + " bytes");
          }
        } else {
          return refuse(ProxyError.BAD_FRAMING, "a chunk extension " + describe(b));
        }
      }
      case SIZE_LF -> {
        if (b != LF) {
          return refuse(ProxyError.BAD_FRAMING, "a chunk size line does not end in CRLF");
        }
        if (chunkSize == 0) {
          trailer = true;
          trailerLines = 0;
          state = FIELD_START;
        } else {
          remaining = chunkSize;
          state = CHUNK_DATA;
        }
      }
      case DATA_CR -> {
        if (b != CR) {
          return refuse(ProxyError.BAD_FRAMING, "a chunk's data is longer than its size");
        }
        state = DATA_LF;
      }
      case DATA_LF -> {
        if (b != LF) {
          return refuse(ProxyError.BAD_FRAMING, "a chunk's data does not end in CRLF");
        }
        startChunk();
      }
      default -> throw new IllegalStateException("state " + state);
    }
    return Stop.MORE;
  }

  private Stop endVersion() {
    String v = version.toString();
    if (!v.equals("HTTP/1.1") && !v.equals("HTTP/1.0")) {
      return v.matches("HTTP/[0-9]\\.[0-9]")
          ? refuse(ProxyError.VERSION_NOT_SUPPORTED, v + " is not served")
          : refuse(ProxyError.BAD_HEADER, "the request line is malformed");
    }
    state = LINE_LF;
    return Stop.MORE;
  }

  private void startValue() {
    state = VALUE;
    value.setLength(0);
    field = trailer ? Field.OTHER : fieldNamed(name);
  }

  /** A header line ended: takes note of the headers that frame the request. */
  private Stop endField() {
    state = FIELD_START;
    if (keepValue() && value.length() > MAX_KEPT) {
      return refuse(ProxyError.BAD_FRAMING, "a framing header is over " + MAX_KEPT + " bytes");
    }
    String v = value.toString().strip();
    switch (field) {
      case CONTENT_LENGTH -> {
        if (++lengthHeaders > 1) {
          return refuse(ProxyError.BAD_FRAMING, "several Content-Length headers");
        }
        if (!isLength(v)) {
          return refuse(ProxyError.BAD_FRAMING, "a malformed Content-Length");
        }
        contentLength = Long.parseLong(v);
      }
      case TRANSFER_ENCODING -> {
        if (++encodingHeaders > 1) {
          return refuse(ProxyError.BAD_FRAMING, "several Transfer-Encoding headers");
        }
        if (!v.equalsIgnoreCase("chunked")) {
          return refuse(ProxyError.NOT_IMPLEMENTED, "only the chunked transfer coding is served");
        }
      }
      case UPGRADE -> upgradeHeader = true;
      case CONNECTION -> {
        // Pekko hands on only the first: names listed in a second would reach the upstream.
        if (++connectionHeaders > 1) {
          return refuse(ProxyError.BAD_HEADER, "several Connection headers: send one");
        }
      }
      case OTHER -> {}
    }
    return Stop.MORE;
  }

  private Stop endHead() {
    if (encodingHeaders > 0 && lengthHeaders > 0) {
      return refuse(ProxyError.BAD_FRAMING, "both Content-Length and Transfer-Encoding");
    }
    if (encodingHeaders > 0 && version.toString().equals("HTTP/1.0")) {
      return refuse(ProxyError.BAD_FRAMING, "Transfer-Encoding in an HTTP/1.0 request");
    }
    upgrade = upgradeHeader && method.toString().equals("GET");
    if (encodingHeaders > 0) {
      startChunk();
    } else if (contentLength > 0) {
      remaining = contentLength;
      state = LENGTH_BODY;
    } else {
      state = BODYLESS_END;
    }
    return Stop.HEAD_END;
  }

  /** The framing header {@code lowerName} is, if any; most names are told apart by length. */
  private static Field fieldNamed(StringBuilder lowerName) {
    return switch (lowerName.length()) {
      case 14 -> lowerName.toString().equals("content-length") ? Field.CONTENT_LENGTH : Field.OTHER;
      case 17 ->
          lowerName.toString().equals("transfer-encoding") ? Field.TRANSFER_ENCODING : Field.OTHER;
      case 7 -> lowerName.toString().equals("upgrade") ? Field.UPGRADE : Field.OTHER;
      case 10 -> lowerName.toString().equals("connection") ? Field.CONNECTION : Field.OTHER;
      default -> Field.OTHER;
    };
  }

  private static boolean isLength(String value) {
    if (value.isEmpty() || value.length() > 18) {
      return false;
    }
    for (int i = 0; i < value.length(); i++) {
      if (value.charAt(i) < '0' || value.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }

  private boolean keepValue() {
    return field == Field.CONTENT_LENGTH || field == Field.TRANSFER_ENCODING;
  }

  private void startChunk() {
    chunkSize = 0;
    state = SIZE_START;
  }

  private static boolean isTchar(int b) {
    return b < 128 && TCHAR[b];
  }

  private static String describe(int b) {
    if (b >= 0x80) {
      return String.format("holds a byte outside ASCII (0x%02X)", b);
    }
    if (b == CR || b == LF) {
      return b == CR ? "holds a lone CR" : "holds a lone LF";
    }
    if (b < SP || b == 0x7F) {
      return String.format("holds a control byte (0x%02X)", b);
    }
    return "holds '" + (char) b + "' where it may not";
  }
}
