package io.slime.it;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 over a bare socket: sends exactly the header lines given (the JDK client refuses
 * Connection and friends), and lets a test walk away from a request by closing the socket.
 */
final class RawHttp implements AutoCloseable {
  record Response(int status, Map<String, List<String>> headers, byte[] body) {
    String header(String name) {
      List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
      return values == null ? null : values.get(0);
    }

    String bodyText() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private final int port;

  private RawHttp(Socket socket, int port) throws IOException {
    this.socket = socket;
    this.port = port;
    this.in = new BufferedInputStream(socket.getInputStream());
    this.out = socket.getOutputStream();
  }

  static RawHttp connect(int port) throws IOException {
    Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
    socket.setSoTimeout(30_000);
    return new RawHttp(socket, port);
  }

  /** Sends a request without body; {@code headerLines} like "Name: value". Adds Host. */
  void send(String method, String target, String... headerLines) throws IOException {
    StringBuilder b = new StringBuilder();
    b.append(method).append(' ').append(target).append(" HTTP/1.1\r\n");
    b.append("Host: 127.0.0.1:").append(port).append("\r\n");
    for (String line : headerLines) {
      b.append(line).append("\r\n");
    }
    b.append("\r\n");
    out.write(b.toString().getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  /** How long a read may wait before it fails. */
  RawHttp timeout(int millis) throws IOException {
    socket.setSoTimeout(millis);
    return this;
  }

  /**
   * Whether the peer closes the connection (or resets it) before anything more arrives; throws
   * SocketTimeoutException if it neither closes nor sends within the read timeout.
   */
  boolean closesWithoutMore() throws IOException {
    try {
      return in.read() < 0;
    } catch (java.net.SocketException e) {
      return true; // reset
    }
  }

  /** Writes raw bytes, such as part of a request body. */
  void write(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  /** The status line and headers only; the body is left to {@link #readLine()}. */
  Response readHead() throws IOException {
    String statusLine = line();
    if (statusLine == null) {
      throw new IOException("connection closed before a response");
    }
    int status = Integer.parseInt(statusLine.split(" ", 3)[1]);
    Map<String, List<String>> headers = new LinkedHashMap<>();
    for (String line; !(line = line()).isEmpty(); ) {
      int colon = line.indexOf(':');
      headers
          .computeIfAbsent(
              line.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
          .add(line.substring(colon + 1).trim());
    }
    return new Response(status, headers, new byte[0]);
  }

  /** The next line of the raw stream (chunk sizes included), or null at its end. */
  String readLine() throws IOException {
    return line();
  }

  Response read() throws IOException {
    Response head = readHead();
    Map<String, List<String>> headers = head.headers();
    int status = head.status();
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    List<String> te = headers.get("transfer-encoding");
    List<String> cl = headers.get("content-length");
    if (te != null && te.get(0).equalsIgnoreCase("chunked")) {
      for (int size; (size = Integer.parseInt(line().split(";")[0].trim(), 16)) > 0; ) {
        body.write(in.readNBytes(size));
        line();
      }
      while (!line().isEmpty()) {
        // trailers
      }
    } else if (cl != null) {
      body.write(in.readNBytes(Integer.parseInt(cl.get(0))));
    }
    return new Response(status, headers, body.toByteArray());
  }

  private String line() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (int c; (c = in.read()) >= 0; ) {
      if (c == '\n') {
        String s = b.toString(StandardCharsets.US_ASCII);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
      }
      b.write(c);
    }
    return b.size() == 0 ? null : b.toString(StandardCharsets.US_ASCII);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
