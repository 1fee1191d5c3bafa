package io.slime.agent.upstream;

import org.apache.pekko.util.ByteString;

/**
 * Frames the HTTP/1.1 responses arriving on one upstream connection, byte by byte, to tell which
 * bytes answer the request in flight and which nobody asked for. Pekko's client matches responses
 * to requests in order only, so an extra response, or stray bytes after a complete one, would
 * become the next request's answer; this framer finds them before Pekko does.
 *
 * <p>It follows Pekko's own response parser wherever that decides where a response ends (1xx are
 * interim, 204, 205, 304 and answers to HEAD and CONNECT carry no body, then Transfer-Encoding
 * chunked, then Content-Length, else the body runs to the close), and refuses, as malformed,
 * anything on which the two could disagree: bare CR, control bytes, folded lines, bytes above 0x7F
 * that are not whole UTF-8 sequences (Pekko takes a lead byte's followers blindly, CR LF included),
 * conflicting lengths, codings other than chunked. Refusing more than Pekko does only fails that
 * one response; accepting something Pekko reads otherwise could mix up answers.
 *
 * <p>Not thread-safe: the connection's stream stage owns it.
 */
final class ResponseFraming {

  /** The longest response head (status line and headers) or trailer section it reads. */
  static final int MAX_HEAD_BYTES = 64 * 1024;

  /** The longest chunk-size line, extensions included. */
  static final int MAX_CHUNK_LINE_BYTES = 4096;

  private enum State {
    /** No request in flight: every byte is stray. */
    IDLE,
    STATUS_LINE,
    HEADER_LINE,
    FIXED_BODY,
    CHUNK_SIZE_LINE,
    CHUNK_DATA,
    /** After a chunk's data: CR LF or LF. */
    CHUNK_END,
    /** After a chunk's data and CR: LF. */
    CHUNK_END_LF,
    TRAILER_LINE,
    /** The body runs until the connection closes: every byte is the response's. */
    UNTIL_CLOSE,
    /** A response ended that closes the connection: every later byte is stray. */
    DONE
  }

  private State state = State.IDLE;
  private String method;
  private boolean started;
  private boolean reusable = true;

  // The response being read.
  private boolean http10;
  private int status;
  private long contentLength;
  private boolean chunked;
  private boolean closeToken;
  private boolean connectionSeen;
  private boolean keepAliveToken;
  private long remaining;
  private int sectionBytes;

  // The line being read, without its LF.
  private byte[] line = new byte[256];
  private int lineLength;

  /** A request with this method went out: its response comes next. */
  void expect(String requestMethod) {
    if (state != State.IDLE) {
      throw new IllegalStateException("a request went out while the response was " + state);
    }
    method = requestMethod;
    started = false;
    startResponse();
  }

  /** Whether a request is in flight whose response has not ended. */
  boolean awaiting() {
    return state != State.IDLE && state != State.DONE;
  }

  /** Whether the connection may carry another request once the response in flight ended. */
  boolean reusable() {
    return reusable;
  }

  /** Whether any byte of the current request's response arrived. */
  boolean started() {
    return started;
  }

  /**
   * Reads the next bytes from the upstream.
   *
   * @return how many of them, from the start, belong to the request in flight; when fewer than all,
   *     the rest are stray and the connection must close
   * @throws MalformedResponseException when they break the framing
   */
  int feed(ByteString bytes) {
    int size = bytes.size();
    int i = 0;
    while (i < size) {
      switch (state) {
        case IDLE, DONE -> {
          return i;
        }
        case UNTIL_CLOSE -> {
          started = true;
          return size;
        }
        case FIXED_BODY, CHUNK_DATA -> {
          int take = (int) Math.min(remaining, size - i);
          i += take;
          remaining -= take;
          if (remaining == 0) {
            if (state == State.FIXED_BODY) {
              finish();
            } else {
              state = State.CHUNK_END;
            }
          }
        }
        case CHUNK_END -> {
          byte b = bytes.apply(i++);
          if (b == '\r') {
            state = State.CHUNK_END_LF;
          } else if (b == '\n') {
            startLine(State.CHUNK_SIZE_LINE);
          } else {
            throw malformed("a chunk's data does not end with CR LF");
          }
        }
        case CHUNK_END_LF -> {
          if (bytes.apply(i++) != '\n') {
            throw malformed("a chunk's data does not end with CR LF");
          }
          startLine(State.CHUNK_SIZE_LINE);
        }
        case STATUS_LINE, HEADER_LINE, CHUNK_SIZE_LINE, TRAILER_LINE -> {
          started = true;
          byte b = bytes.apply(i++);
          if (b == '\n') {
            endLine();
          } else {
            append(b);
          }
        }
      }
    }
    return size;
  }

  private void startResponse() {
    http10 = false;
    status = 0;
    contentLength = -1;
    chunked = false;
    closeToken = false;
    connectionSeen = false;
    keepAliveToken = false;
    sectionBytes = 0;
    startLine(State.STATUS_LINE);
  }

  private void startLine(State lineState) {
    state = lineState;
    lineLength = 0;
  }

  private void append(byte b) {
    int limit = state == State.CHUNK_SIZE_LINE ? MAX_CHUNK_LINE_BYTES : MAX_HEAD_BYTES;
    if (++sectionBytes > limit) {
      throw malformed(
          (state == State.CHUNK_SIZE_LINE ? "a chunk-size line" : "the head")
              + " exceeds "
              + limit
              + " bytes");
    }
    if (lineLength == line.length) {
      line = java.util.Arrays.copyOf(line, line.length * 2);
    }
    line[lineLength++] = b;
  }

  /** A line ended at LF; a CR before the LF is part of the line ending, any other is refused. */
  private void endLine() {
    int length = lineLength;
    if (length > 0 && line[length - 1] == '\r') {
      length--;
    }
    for (int k = 0; k < length; k++) {
      if (line[k] == '\r') {
        throw malformed("a bare CR");
      }
    }
    switch (state) {
      case STATUS_LINE -> statusLine(length);
      case HEADER_LINE -> {
        if (length == 0) {
          endHead();
        } else {
          headerLine(length);
          startLine(State.HEADER_LINE);
        }
      }
      case CHUNK_SIZE_LINE -> chunkSizeLine(length);
      case TRAILER_LINE -> {
        if (length == 0) {
          finish();
        } else {
          headerLine(length);
          startLine(State.TRAILER_LINE);
        }
      }
      default -> throw new IllegalStateException(state.name());
    }
  }

  /** {@code HTTP/1.x SP 3DIGIT [SP reason]}, as Pekko takes it (it knows 1.0 and 1.1 only). */
  private void statusLine(int length) {
    if (length < 12
        || !startsWith("HTTP/1.")
        || (line[7] != '0' && line[7] != '1')
        || line[8] != ' '
        || !digit(line[9])
        || !digit(line[10])
        || !digit(line[11])
        || (length > 12 && line[12] != ' ')) {
      throw malformed("a bad status line");
    }
    for (int k = 13; k < length; k++) {
      if (!fieldByte(line[k])) {
        throw malformed("a control byte in the status line");
      }
    }
    http10 = line[7] == '0';
    status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    if (status < 100 || status > 599) {
      throw malformed("status " + status);
    }
    startLine(State.HEADER_LINE);
  }

  private void headerLine(int length) {
    if (line[0] == ' ' || line[0] == '\t') {
      throw malformed("a folded header line");
    }
    int colon = 0;
    while (colon < length && line[colon] != ':') {
      if (!tchar(line[colon])) {
        throw malformed("a bad header name");
      }
      colon++;
    }
    if (colon == 0 || colon == length) {
      throw malformed("a header line without a name and a colon");
    }
    checkValue(colon + 1, length);
    if (state == State.TRAILER_LINE) {
      return; // trailers never change the framing
    }
    String name = new String(line, 0, colon, java.nio.charset.StandardCharsets.US_ASCII);
    if (name.equalsIgnoreCase("content-length")) {
      long value = contentLength(trimmed(colon + 1, length));
      if (contentLength >= 0 && contentLength != value) {
        throw malformed("two different Content-Length headers");
      }
      contentLength = value;
    } else if (name.equalsIgnoreCase("transfer-encoding")) {
      if (chunked || !trimmed(colon + 1, length).equalsIgnoreCase("chunked")) {
        throw malformed("a Transfer-Encoding other than one chunked");
      }
      chunked = true;
    } else if (name.equalsIgnoreCase("connection")) {
      // Pekko hands on only the first: the names a second one lists would reach the application.
      if (connectionSeen) {
        throw malformed("several Connection headers");
      }
      connectionSeen = true;
      for (String token : trimmed(colon + 1, length).split(",")) {
        String t = token.strip();
        closeToken |= t.equalsIgnoreCase("close");
        keepAliveToken |= t.equalsIgnoreCase("keep-alive");
      }
    }
  }

  /**
   * A field value: HTAB, visible ASCII, space, or whole UTF-8 sequences. Pekko decodes bytes above
   * 0x7F as UTF-8 and swallows as many followers as a lead byte announces, whatever they are.
   */
  private void checkValue(int from, int to) {
    int k = from;
    while (k < to) {
      int b = line[k] & 0xFF;
      if (b < 0x80) {
        if (!fieldByte(line[k])) {
          throw malformed("a control byte in a header value");
        }
        k++;
        continue;
      }
      int followers =
          b >= 0xC2 && b <= 0xDF ? 1 : b >= 0xE0 && b <= 0xEF ? 2 : b >= 0xF0 && b <= 0xF4 ? 3 : -1;
      if (followers < 0 || k + followers >= to) {
        throw malformed("a header value byte 0x" + Integer.toHexString(b) + " that is not UTF-8");
      }
      for (int f = 1; f <= followers; f++) {
        if ((line[k + f] & 0xC0) != 0x80) {
          throw malformed("a header value byte 0x" + Integer.toHexString(b) + " that is not UTF-8");
        }
      }
      k += followers + 1;
    }
  }

  private void endHead() {
    if (status < 200) {
      startResponse(); // interim: the final response follows
      return;
    }
    if (chunked && contentLength >= 0) {
      throw malformed("both Transfer-Encoding and Content-Length");
    }
    if (http10 ? !keepAliveToken : closeToken) {
      reusable = false;
    }
    if (status == 204 || status == 205 || status == 304 || method.equals("HEAD")) {
      finish();
    } else if (method.equals("CONNECT")) {
      reusable = false; // whatever follows is a tunnel, not HTTP
      finish();
    } else if (chunked) {
      sectionBytes = 0;
      startLine(State.CHUNK_SIZE_LINE);
    } else if (contentLength == 0) {
      finish();
    } else if (contentLength > 0) {
      remaining = contentLength;
      state = State.FIXED_BODY;
    } else {
      reusable = false;
      state = State.UNTIL_CLOSE;
    }
  }

  /** Hex digits (spaces between them tolerated, as Pekko does), then extensions after ';'. */
  private void chunkSizeLine(int length) {
    long size = 0;
    int digits = 0;
    for (int k = 0; k < length; k++) {
      byte b = line[k];
      if (b == ';') {
        break;
      }
      int hex = Character.digit(b, 16);
      if (hex >= 0) {
        size = size * 16 + hex;
        digits++;
        if (size > Integer.MAX_VALUE) {
          throw malformed("a chunk larger than 2 GiB");
        }
      } else if (b != ' ' && b != '\t') {
        throw malformed("a bad chunk size");
      }
    }
    if (digits == 0) {
      throw malformed("a bad chunk size");
    }
    for (int k = 0; k < length; k++) {
      if (!fieldByte(line[k]) && (line[k] & 0xFF) < 0x80) {
        throw malformed("a control byte in a chunk extension");
      }
    }
    if (size == 0) {
      sectionBytes = 0;
      startLine(State.TRAILER_LINE);
    } else {
      remaining = size;
      state = State.CHUNK_DATA;
    }
  }

  private void finish() {
    state = reusable ? State.IDLE : State.DONE;
  }

  private long contentLength(String value) {
    if (value.isEmpty() || value.length() > 18) {
      throw malformed("a bad Content-Length");
    }
    for (int k = 0; k < value.length(); k++) {
      if (!digit((byte) value.charAt(k))) {
        throw malformed("a bad Content-Length");
      }
    }
    return Long.parseLong(value);
  }

  private String trimmed(int from, int to) {
    while (from < to && (line[from] == ' ' || line[from] == '\t')) {
      from++;
    }
    while (to > from && (line[to - 1] == ' ' || line[to - 1] == '\t')) {
      to--;
    }
    return new String(line, from, to - from, java.nio.charset.StandardCharsets.ISO_8859_1);
  }

  private boolean startsWith(String prefix) {
    for (int k = 0; k < prefix.length(); k++) {
      if (line[k] != prefix.charAt(k)) {
        return false;
      }
    }
    return true;
  }

  private static boolean digit(byte b) {
    return b >= '0' && b <= '9';
  }

  /** HTAB, space and visible ASCII; bytes above 0x7F are checked apart. */
  private static boolean fieldByte(byte b) {
    return b == '\t' || (b >= 0x20 && b < 0x7F) || b < 0;
  }

  private static boolean tchar(byte b) {
    return (b >= 'a' && b <= 'z')
        || (b >= 'A' && b <= 'Z')
        || digit(b)
        || "!#$%&'*+-.^_`|~".indexOf(b) >= 0;
  }

  private MalformedResponseException malformed(String what) {
    reusable = false;
    state = State.DONE;
    return new MalformedResponseException("malformed response: " + what);
  }
}
