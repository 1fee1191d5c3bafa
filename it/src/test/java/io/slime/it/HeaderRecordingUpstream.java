package io.slime.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * An upstream on a bare server socket that records every request head exactly as it arrives (header
 * fields in order, repeats kept, names as sent) and answers with the raw bytes its responder gives
 * for the target, so a test controls every byte of the answer, header lines the JDK's server would
 * refuse or fix included. Requests must carry no body.
 */
final class HeaderRecordingUpstream implements AutoCloseable {
  /** One request as it arrived: its request line and its header fields. */
  record Request(String line, List<String[]> fields) {
    String target() {
      return line.split(" ", 3)[1];
    }

    /** Every field's lowercase name, in order. */
    List<String> names() {
      return fields.stream().map(f -> f[0].toLowerCase(Locale.ROOT)).toList();
    }

    /** The values of every field of this name, in order. */
    List<String> values(String name) {
      return fields.stream().filter(f -> f[0].equalsIgnoreCase(name)).map(f -> f[1]).toList();
    }
  }

  static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n";

  private final ServerSocket server;
  private final Function<String, String> responder;
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private final LinkedBlockingQueue<Request> arrived = new LinkedBlockingQueue<>();

  private HeaderRecordingUpstream(ServerSocket server, Function<String, String> responder) {
    this.server = server;
    this.responder = responder;
  }

  /** An upstream that answers every request 200 "ok". */
  static HeaderRecordingUpstream start() throws IOException {
    return start(target -> OK);
  }

  /** {@code responder} gives the whole raw answer (head and body) for a request target. */
  static HeaderRecordingUpstream start(Function<String, String> responder) throws IOException {
    HeaderRecordingUpstream upstream =
        new HeaderRecordingUpstream(RawUpstreams.listen(), responder);
    RawUpstreams.acceptOn(upstream.server, upstream.threads, upstream::serve);
    return upstream;
  }

  String address() {
    return "127.0.0.1:" + server.getLocalPort();
  }

  /** The next request to arrive, or null after {@code timeoutMs}. */
  Request next(long timeoutMs) throws InterruptedException {
    return arrived.poll(timeoutMs, TimeUnit.MILLISECONDS);
  }

  /** Forgets what arrived so far (the requests that waited for the agent to connect). */
  void clear() {
    arrived.clear();
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
      for (byte[] raw; (raw = RawUpstreams.readHead(in)) != null; ) {
        String head = new String(raw, StandardCharsets.ISO_8859_1);
        Request request = parse(head.substring(0, head.length() - 4));
        arrived.add(request);
        out.write(responder.apply(request.target()).getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
      }
    } catch (IOException e) {
      // The agent closed a kept-alive connection.
    }
  }

  private static Request parse(String head) {
    String[] lines = head.split("\r\n");
    List<String[]> fields = new ArrayList<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      fields.add(
          new String[] {lines[i].substring(0, colon), lines[i].substring(colon + 1).strip()});
    }
    return new Request(lines[0], List.copyOf(fields));
  }
}
