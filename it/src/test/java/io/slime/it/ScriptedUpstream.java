package io.slime.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An upstream on a bare server socket that writes exactly the bytes a test scripts, misbehaving as
 * a buggy model server would. Each request is answered by the script of the longest path prefix
 * that matches its target; by default with 200 and the target itself as the body, so a test sees
 * whose answer it got. Every request that arrives is recorded, with its raw head, and counted per
 * path.
 */
final class ScriptedUpstream implements AutoCloseable {

  /** One request as it arrived. */
  record Request(String method, String target, String head, byte[] body) {
    String path() {
      int q = target.indexOf('?');
      return q < 0 ? target : target.substring(0, q);
    }

    /** The value of the first header of this name, or null. */
    String header(String name) {
      return RawUpstreams.header(head, name);
    }
  }

  /** Writes the answer to {@code request}; returns false to close the connection after it. */
  interface Script {
    boolean answer(Request request, OutputStream out, Socket socket) throws IOException;
  }

  private final ServerSocket server;
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private final Map<String, Script> scripts = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private final LinkedBlockingQueue<Request> arrived = new LinkedBlockingQueue<>();
  private final LinkedBlockingQueue<String> closed = new LinkedBlockingQueue<>();
  private final AtomicInteger connections = new AtomicInteger();

  private ScriptedUpstream(ServerSocket server) {
    this.server = server;
  }

  static ScriptedUpstream start() throws IOException {
    ScriptedUpstream upstream = new ScriptedUpstream(RawUpstreams.listen());
    RawUpstreams.acceptOn(
        upstream.server,
        upstream.threads,
        socket -> {
          upstream.connections.incrementAndGet();
          upstream.serve(socket);
        });
    return upstream;
  }

  String address() {
    return "127.0.0.1:" + server.getLocalPort();
  }

  /** Answers targets starting with {@code prefix} with {@code script}. */
  ScriptedUpstream on(String prefix, Script script) {
    scripts.put(prefix, script);
    return this;
  }

  /** How many requests for {@code path} arrived. */
  int count(String path) {
    AtomicInteger n = counts.get(path);
    return n == null ? 0 : n.get();
  }

  /** How many connections the upstream accepted. */
  int connections() {
    return connections.get();
  }

  List<Request> requests() {
    return List.copyOf(requests);
  }

  /** The next request to arrive, or null after the timeout. */
  Request awaitRequest(long timeoutMs) throws InterruptedException {
    return arrived.poll(timeoutMs, TimeUnit.MILLISECONDS);
  }

  /** The target of the last request on the next connection the agent closed, or null. */
  String awaitClose(long timeoutMs) throws InterruptedException {
    return closed.poll(timeoutMs, TimeUnit.MILLISECONDS);
  }

  void clear() {
    requests.clear();
    arrived.clear();
    closed.clear();
    counts.clear();
  }

  /** A whole response with this status and body. */
  static byte[] response(int status, String body) {
    return bytes(
        "HTTP/1.1 "
            + status
            + " X\r\nContent-Type: text/plain\r\nContent-Length: "
            + body.getBytes(StandardCharsets.UTF_8).length
            + "\r\n\r\n"
            + body);
  }

  static byte[] bytes(String latin1) {
    return latin1.getBytes(StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() throws IOException {
    server.close();
    threads.shutdownNow();
  }

  private void serve(Socket socket) {
    String last = null;
    try (socket) {
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      while (true) {
        Request request = read(in);
        if (request == null) {
          break;
        }
        last = request.target();
        requests.add(request);
        counts.computeIfAbsent(request.path(), p -> new AtomicInteger()).incrementAndGet();
        arrived.add(request);
        if (!script(request.target()).answer(request, out, socket)) {
          break;
        }
        out.flush();
      }
    } catch (IOException e) {
      // The agent closed or reset the connection.
    }
    closed.add(last == null ? "" : last);
  }

  private Script script(String target) {
    String best = null;
    for (String prefix : scripts.keySet()) {
      if (target.startsWith(prefix) && (best == null || prefix.length() > best.length())) {
        best = prefix;
      }
    }
    return best == null ? ScriptedUpstream::echoTarget : scripts.get(best);
  }

  private static boolean echoTarget(Request request, OutputStream out, Socket socket)
      throws IOException {
    out.write(response(200, request.target()));
    return true;
  }

  /** The next request (head and Content-Length or chunked body), or null at end of stream. */
  private static Request read(InputStream in) throws IOException {
    byte[] raw = RawUpstreams.readHead(in);
    if (raw == null) {
      return null;
    }
    String head = new String(raw, StandardCharsets.ISO_8859_1);
    String[] requestLine = head.substring(0, head.indexOf("\r\n")).split(" ", 3);
    return new Request(requestLine[0], requestLine[1], head, RawUpstreams.readBody(in, head));
  }
}
