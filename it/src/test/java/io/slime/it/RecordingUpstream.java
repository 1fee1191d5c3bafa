package io.slime.it;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * An upstream on a bare server socket that keeps every whole request it receives, head and body, as
 * the bytes that came (bodies framed by Content-Length or chunked), and answers each {@code 200
 * ok}. A request cut off before its end is not kept: it never reached the upstream as a request.
 */
final class RecordingUpstream implements AutoCloseable {
  /** One request as received: its head (up to the blank line) and its body's data. */
  record Received(byte[] head, byte[] body) {
    String headText() {
      return new String(head, StandardCharsets.ISO_8859_1);
    }

    String target() {
      return headText().split(" ", 3)[1];
    }
  }

  private final ServerSocket server;
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private final List<Received> received = new CopyOnWriteArrayList<>();

  private RecordingUpstream(ServerSocket server) {
    this.server = server;
  }

  static RecordingUpstream start() throws IOException {
    RecordingUpstream upstream = new RecordingUpstream(RawUpstreams.listen());
    RawUpstreams.acceptOn(upstream.server, upstream.threads, upstream::serve);
    return upstream;
  }

  String address() {
    return "127.0.0.1:" + server.getLocalPort();
  }

  /** Every whole request received, in arrival order. */
  List<Received> received() {
    return List.copyOf(received);
  }

  @Override
  public void close() throws IOException {
    server.close();
    threads.shutdownNow();
  }

  private void serve(Socket socket) {
    try (socket) {
      InputStream in = new BufferedInputStream(socket.getInputStream());
      OutputStream out = socket.getOutputStream();
      for (byte[] head; (head = RawUpstreams.readHead(in)) != null; ) {
        byte[] body = RawUpstreams.readBody(in, new String(head, StandardCharsets.ISO_8859_1));
        received.add(new Received(head, body));
        out.write(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n"
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
      }
    } catch (IOException e) {
      // The agent closed or aborted the connection: a request cut off is not kept.
    }
  }
}
