package io.slime.it;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.function.Consumer;

/**
 * What the raw-socket upstreams of the tests share: a loopback listener, and reading requests'
 * heads and bodies.
 */
final class RawUpstreams {
  private RawUpstreams() {}

  /** A server socket on a free loopback port. */
  static ServerSocket listen() throws IOException {
    return new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
  }

  /** Accepts connections on {@code threads} until {@code server} closes, each served apart. */
  static void acceptOn(ServerSocket server, ExecutorService threads, Consumer<Socket> serve) {
    threads.execute(
        () -> {
          while (!server.isClosed()) {
            try {
              Socket socket = server.accept();
              threads.execute(() -> serve.accept(socket));
            } catch (IOException e) {
              return;
            }
          }
        });
  }

  /** A request head up to and including its blank line, or null at the end of the stream. */
  static byte[] readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    for (int b; (b = in.read()) >= 0; ) {
      head.write(b);
      matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
      if (matched == 4) {
        return head.toByteArray();
      }
    }
    return null;
  }

  /** The value of the head's first header of this name, or null. */
  static String header(String head, String name) {
    for (String line : head.split("\r\n")) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
        return line.substring(colon + 1).strip();
      }
    }
    return null;
  }

  /**
   * The data of the body that follows {@code head}: chunked (extensions and trailers dropped) or of
   * its Content-Length, empty with neither. A body cut off by the end of the stream throws {@link
   * EOFException}: it never reached the upstream as a request.
   */
  static byte[] readBody(InputStream in, String head) throws IOException {
    String coding = header(head, "Transfer-Encoding");
    if (coding != null && coding.toLowerCase(Locale.ROOT).contains("chunked")) {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      for (int size; (size = Integer.parseInt(line(in).split(";")[0].strip(), 16)) > 0; ) {
        body.write(exactly(in, size));
        line(in);
      }
      while (!line(in).isEmpty()) {
        // trailers
      }
      return body.toByteArray();
    }
    String length = header(head, "Content-Length");
    return length == null ? new byte[0] : exactly(in, Integer.parseInt(length));
  }

  private static byte[] exactly(InputStream in, int n) throws IOException {
    byte[] bytes = in.readNBytes(n);
    if (bytes.length < n) {
      throw new EOFException("body cut off");
    }
    return bytes;
  }

  /** One line without its CRLF (or bare LF). */
  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int c; (c = in.read()) >= 0; ) {
      if (c == '\n') {
        String s = line.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
      }
      line.write(c);
    }
    throw new EOFException("body cut off");
  }
}
