package io.slime.it;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The upstream the integration tests proxy to, on the JDK's own HTTP server so it shares no code
 * with what is tested. Same endpoints as the demo's SampleUpstream, also under a prefix of the
 * test's ({@code /pool/echo}):
 *
 * <ul>
 *   <li>{@code /echo...}: JSON of method, path, query, headers (lower-case names) and the body's
 *       size and SHA-256; {@code ?status=N} answers N; always sets {@code X-Upstream: test} and two
 *       {@code Set-Cookie} headers
 *   <li>{@code /slow?ms=N}: answers after N ms
 *   <li>{@code /events?count=N&intervalMs=M}: server-sent events, one every M ms, flushed each
 *   <li>{@code /bytes?size=N}: N bytes of {@link #pattern}
 *   <li>{@code /upload}: JSON of the body's size and SHA-256, read as it streams
 *   <li>{@code /health}: 200, or 503 after {@link #setHealthy setHealthy(false)}
 * </ul>
 *
 * Counts the requests being handled at once ({@link #inFlight()}, {@link #maxInFlight()}).
 */
final class TestUpstream implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpServer server;
  private final ExecutorService executor = Executors.newCachedThreadPool();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger maxInFlight = new AtomicInteger();
  private final AtomicInteger requests = new AtomicInteger();
  private final AtomicLong bytesSent = new AtomicLong();
  private volatile long uploadFirstByteNanos;
  private volatile boolean healthy = true;
  private final AtomicInteger brokenBodies = new AtomicInteger();
  private final List<String> servedPaths =
      java.util.Collections.synchronizedList(new ArrayList<>());

  private final long delayMs;

  private TestUpstream(HttpServer server, long delayMs) {
    this.server = server;
    this.delayMs = delayMs;
  }

  static TestUpstream start() {
    return start(0);
  }

  /** An upstream that waits {@code delayMs} before it answers anything: a slower machine. */
  static TestUpstream start(long delayMs) {
    try {
      HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 512);
      TestUpstream upstream = new TestUpstream(server, delayMs);
      server.createContext("/", upstream::handle);
      server.setExecutor(upstream.executor);
      server.start();
      return upstream;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  int port() {
    return server.getAddress().getPort();
  }

  String address() {
    return "127.0.0.1:" + port();
  }

  int inFlight() {
    return inFlight.get();
  }

  /** The paths of all requests so far, in the order they arrived. */
  List<String> servedPaths() {
    synchronized (servedPaths) {
      return List.copyOf(servedPaths);
    }
  }

  int maxInFlight() {
    return maxInFlight.get();
  }

  int requests() {
    return requests.get();
  }

  /** Bytes of {@code /bytes} bodies written so far (accepted by the socket). */
  long bytesSent() {
    return bytesSent.get();
  }

  /** When the last {@code /upload} body's first bytes arrived ({@link System#nanoTime()}). */
  long uploadFirstByteNanos() {
    return uploadFirstByteNanos;
  }

  /** Event streams and uploads whose connection broke before they ended. */
  int brokenBodies() {
    return brokenBodies.get();
  }

  /** What {@code /health} answers from now on: 200, or 503 when not healthy. */
  void setHealthy(boolean healthy) {
    this.healthy = healthy;
  }

  void resetMax() {
    maxInFlight.set(inFlight.get());
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  /** Byte {@code i} of every {@code /bytes} body and every test upload. */
  static byte pattern(long i) {
    return (byte) (i * 31 + (i >>> 11));
  }

  /** Fills {@code buf[0, len)} with the pattern from {@code offset} on. */
  static void pattern(long offset, byte[] buf, int len) {
    for (int i = 0; i < len; i++) {
      buf[i] = pattern(offset + i);
    }
  }

  static String patternSha256(long size) {
    MessageDigest digest = sha256();
    byte[] buf = new byte[64 * 1024];
    for (long off = 0; off < size; off += buf.length) {
      int len = (int) Math.min(buf.length, size - off);
      pattern(off, buf, len);
      digest.update(buf, 0, len);
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private void handle(HttpExchange ex) throws IOException {
    requests.incrementAndGet();
    int now = inFlight.incrementAndGet();
    maxInFlight.accumulateAndGet(now, Math::max);
    try {
      URI uri = ex.getRequestURI();
      String path = uri.getPath();
      servedPaths.add(path);
      Map<String, String> query = query(uri.getRawQuery());
      String endpoint = endpointOf(path);
      if (delayMs > 0) {
        Thread.sleep(delayMs);
      }
      if (endpoint.equals("echo")) {
        echo(ex, query);
      } else if (endpoint.equals("slow")) {
        slow(ex, Long.parseLong(query.getOrDefault("ms", "1000")));
      } else if (endpoint.equals("events")) {
        events(
            ex,
            Integer.parseInt(query.getOrDefault("count", "10")),
            Long.parseLong(query.getOrDefault("intervalMs", "200")));
      } else if (endpoint.equals("bytes")) {
        bytes(ex, Long.parseLong(query.getOrDefault("size", "1024")));
      } else if (endpoint.equals("upload")) {
        upload(ex);
      } else if (endpoint.equals("health")) {
        ex.getRequestBody().readAllBytes();
        boolean ok = healthy;
        send(
            ex,
            ok ? 200 : 503,
            "text/plain",
            (ok ? "ok\n" : "loading\n").getBytes(StandardCharsets.UTF_8));
      } else {
        ex.getRequestBody().readAllBytes();
        send(ex, 404, "text/plain", "no such endpoint\n".getBytes(StandardCharsets.UTF_8));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      ex.close();
    } catch (IOException | RuntimeException e) {
      // The proxy went away mid-request or mid-answer (a cancelled request).
      brokenBodies.incrementAndGet();
      ex.close();
    } finally {
      inFlight.decrementAndGet();
    }
  }

  /**
   * The first segment of {@code path} that names an endpoint, so tests can put a prefix of their
   * own in front ({@code /pool/echo}); empty when none does.
   */
  private static String endpointOf(String path) {
    for (String segment : path.split("/")) {
      if (List.of("echo", "slow", "events", "bytes", "upload", "health").contains(segment)) {
        return segment;
      }
    }
    return "";
  }

  private void echo(HttpExchange ex, Map<String, String> query) throws IOException {
    MessageDigest digest = sha256();
    long size = drain(ex.getRequestBody(), digest);
    Map<String, List<String>> headers = new TreeMap<>();
    ex.getRequestHeaders()
        .forEach((name, values) -> headers.put(name.toLowerCase(Locale.ROOT), values));
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("method", ex.getRequestMethod());
    out.put("path", ex.getRequestURI().getRawPath());
    out.put("query", ex.getRequestURI().getRawQuery());
    out.put("headers", headers);
    out.put("bodySize", size);
    out.put("bodySha256", HexFormat.of().formatHex(digest.digest()));
    ex.getResponseHeaders().add("X-Upstream", "test");
    ex.getResponseHeaders().add("Set-Cookie", "a=1");
    ex.getResponseHeaders().add("Set-Cookie", "b=2");
    int status = Integer.parseInt(query.getOrDefault("status", "200"));
    send(ex, status, "application/json", JSON.writeValueAsBytes(out));
  }

  private void slow(HttpExchange ex, long ms) throws IOException {
    ex.getRequestBody().readAllBytes();
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    send(ex, 200, "text/plain", ("slept " + ms + "\n").getBytes(StandardCharsets.UTF_8));
  }

  private void events(HttpExchange ex, int count, long intervalMs) throws IOException {
    ex.getRequestBody().readAllBytes();
    ex.getResponseHeaders().add("Content-Type", "text/event-stream");
    ex.getResponseHeaders().add("Cache-Control", "no-cache");
    ex.sendResponseHeaders(200, 0);
    try (OutputStream out = ex.getResponseBody()) {
      for (int i = 0; i < count; i++) {
        if (i > 0) {
          Thread.sleep(intervalMs);
        }
        out.write(("data: event " + i + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void bytes(HttpExchange ex, long size) throws IOException {
    ex.getRequestBody().readAllBytes();
    ex.getResponseHeaders().add("Content-Type", "application/octet-stream");
    ex.sendResponseHeaders(200, size == 0 ? -1 : size);
    try (OutputStream out = ex.getResponseBody()) {
      byte[] buf = new byte[64 * 1024];
      for (long off = 0; off < size; off += buf.length) {
        int len = (int) Math.min(buf.length, size - off);
        pattern(off, buf, len);
        out.write(buf, 0, len);
        bytesSent.addAndGet(len);
      }
    }
  }

  private void upload(HttpExchange ex) throws IOException {
    MessageDigest digest = sha256();
    InputStream in = ex.getRequestBody();
    byte[] first = new byte[1];
    long size = 0;
    if (in.read(first) == 1) {
      uploadFirstByteNanos = System.nanoTime();
      digest.update(first);
      size = 1 + drain(in, digest);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("size", size);
    out.put("sha256", HexFormat.of().formatHex(digest.digest()));
    send(ex, 200, "application/json", JSON.writeValueAsBytes(out));
  }

  private static long drain(InputStream in, MessageDigest digest) throws IOException {
    byte[] buf = new byte[64 * 1024];
    long size = 0;
    for (int n; (n = in.read(buf)) > 0; ) {
      digest.update(buf, 0, n);
      size += n;
    }
    return size;
  }

  private static void send(HttpExchange ex, int status, String contentType, byte[] body)
      throws IOException {
    ex.getResponseHeaders().add("Content-Type", contentType);
    boolean head = ex.getRequestMethod().equals("HEAD");
    ex.sendResponseHeaders(status, head || body.length == 0 ? -1 : body.length);
    try (OutputStream out = ex.getResponseBody()) {
      if (!head) {
        out.write(body);
      }
    }
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> out = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) {
      return out;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      out.put(eq < 0 ? pair : pair.substring(0, eq), eq < 0 ? "" : pair.substring(eq + 1));
    }
    return out;
  }
}
