package io.slime.it;

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
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An upstream on a bare server socket, so the tests see what a real server sees: {@code /hang...}
 * never answers and records the moment its client closes the connection (the agent aborting the
 * call); {@code /crash...} sends a head promising 100000 bytes, 1000 of them, and resets the
 * connection; any other path answers 200 at once. Every request target that arrives is recorded.
 */
final class HangingUpstream implements AutoCloseable {
  private final ServerSocket server;
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private final List<String> targets = new CopyOnWriteArrayList<>();
  private final LinkedBlockingQueue<String> arrived = new LinkedBlockingQueue<>();
  private final LinkedBlockingQueue<String> aborted = new LinkedBlockingQueue<>();

  private HangingUpstream(ServerSocket server) {
    this.server = server;
  }

  static HangingUpstream start() throws IOException {
    HangingUpstream upstream = new HangingUpstream(RawUpstreams.listen());
    RawUpstreams.acceptOn(upstream.server, upstream.threads, upstream::serve);
    return upstream;
  }

  String address() {
    return "127.0.0.1:" + server.getLocalPort();
  }

  /** Every request target received, in arrival order. */
  List<String> targets() {
    return List.copyOf(targets);
  }

  /** The next request target to arrive, or null after the timeout. */
  String awaitArrival(long timeoutMs) throws InterruptedException {
    return arrived.poll(timeoutMs, TimeUnit.MILLISECONDS);
  }

  /** The target of the next hanging request whose connection closed, or null after the timeout. */
  String awaitAbort(long timeoutMs) throws InterruptedException {
    return aborted.poll(timeoutMs, TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() throws IOException {
    server.close();
    threads.shutdownNow();
  }

  private void serve(Socket socket) {
    try (socket) {
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      while (true) {
        byte[] raw = RawUpstreams.readHead(in);
        if (raw == null) {
          return;
        }
        String head = new String(raw, StandardCharsets.ISO_8859_1);
        String target = head.split(" ", 3)[1];
        targets.add(target);
        arrived.add(target);
        // Test requests carry no body (GET), so the head is the whole request.
        if (target.startsWith("/hang")) {
          try {
            while (in.read() >= 0) {
              // Nothing more should come; wait for the close.
            }
          } catch (IOException e) {
            // Reset rather than closed: aborted all the same.
          }
          aborted.add(target);
          return;
        }
        if (target.startsWith("/crash")) {
          // Promises 100000 bytes, sends 1000, and dies.
          out.write(
              "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII));
          out.write(new byte[1000]);
          out.flush();
          socket.setSoLinger(true, 0);
          return;
        }
        out.write(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n"
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
      }
    } catch (IOException e) {
      // The agent closed a kept-alive connection: nothing to record.
    }
  }
}
