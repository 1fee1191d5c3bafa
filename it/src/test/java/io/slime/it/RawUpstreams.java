package io.slime.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.ExecutorService;
import java.util.function.Consumer;

/** What the raw-socket upstreams of the tests share: a loopback listener and reading heads. */
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
}
