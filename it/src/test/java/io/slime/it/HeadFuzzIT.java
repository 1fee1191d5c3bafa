package io.slime.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.slime.agent.Agents;
import io.slime.hub.Hub;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Random and mutated request heads, headers and chunked bodies against a live hub with a recording
 * upstream (issue 10). Each case is one connection of a few requests, mutated, then a last request
 * with Connection: close. Asserts that every connection gets well-formed HTTP answers and then a
 * close, never a hang (every read is bounded); that every answer the hub makes carries a
 * Slime-Error; that the upstream gets only requests whose heads the hub's rules accept, each one
 * the client sent as a request (never one from inside a body); and that the hub keeps serving.
 *
 * <p>Seeded: the seed is printed, {@code -Dslime.fuzz.seed=N} replays a run and {@code
 * -Dslime.fuzz.case=M} one case of it.
 */
class HeadFuzzIT {
  private static final int CASES = 3000;
  private static final int PARALLEL = 16;
  private static final int READ_TIMEOUT_MS = 5000;
  private static final Pattern STATUS_LINE = Pattern.compile("HTTP/1\\.1 (\\d{3}) .*");
  private static final Pattern CASE = Pattern.compile("/(?:fuzz|smuggled)/(\\d+)/");
  private static final byte[] ODD_BYTES = {
    0x00,
    0x01,
    0x08,
    0x0b,
    0x1b,
    0x7f,
    (byte) 0x80,
    (byte) 0xa0,
    (byte) 0xc3,
    (byte) 0xe9,
    (byte) 0xff,
    '\r',
    '\n',
    ' ',
    '\t',
    ':',
    ';',
    '"',
    '0',
    'f',
    'a',
    '/'
  };
  private static final String[] LINES = {
    "Content-Length: 0\r\n",
    "Content-Length: 7\r\n",
    "Content-Length: 99999\r\n",
    "Content-Length: -1\r\n",
    "Content-Length: 5, 5\r\n",
    "Transfer-Encoding: chunked\r\n",
    "Transfer-Encoding: gzip, chunked\r\n",
    "Transfer-Encoding : chunked\r\n",
    "Transfer-Encoding: \u00e9chunked\r\n",
    "X-L: a\u00e9\r\n",
    "X-N: a\u0000b\r\n",
    " folded\r\n",
    "X-Lf: a\nX-Next: b\r\n",
    "X-Cr: a\rX-Next: b\r\n",
    "Upgrade: websocket\r\nConnection: Upgrade\r\n",
    "Expect: 100-continue\r\n",
    "\r\n"
  };

  private static RecordingUpstream upstream;
  private static Hub hub;
  private static Agents agents;

  @BeforeAll
  static void start() throws IOException {
    upstream = RecordingUpstream.start();
    hub = Slime.hub(Map.of("client-head-timeout", "300ms", "client-body-timeout", "300ms"));
    agents = Slime.agent(hub, Slime.token("fuzzed"), upstream.address(), 8, "fuzzed");
    Slime.awaitWorkers(hub, 8, "/ready");
  }

  @AfterAll
  static void stop() {
    Slime.closeAll(agents, hub, upstream);
  }

  @Test
  void shouldAnswerEveryMutatedHeadWellAndForwardOnlyWhatItsRulesAccept() throws Exception {
    long seed = Long.getLong("slime.fuzz.seed", new Random().nextLong());
    System.out.println("HeadFuzzIT seed " + seed + " (replay with -Dslime.fuzz.seed=" + seed + ")");
    Map<Integer, List<String>> expected = new ConcurrentHashMap<>();
    Map<String, AtomicInteger> statuses = new ConcurrentHashMap<>();
    ExecutorService pool = Executors.newFixedThreadPool(PARALLEL);
    try {
      List<Future<?>> runs = new ArrayList<>();
      // -Dslime.fuzz.case=N replays case N alone.
      int only = Integer.getInteger("slime.fuzz.case", -1);
      for (int n = only < 0 ? 0 : only; n < (only < 0 ? CASES : only + 1); n++) {
        int id = n;
        runs.add(
            pool.submit(
                () -> {
                  byte[] bytes = generate(new Random(seed * 31 + id), id);
                  StrictRequests.Parsed parsed = StrictRequests.parse(bytes);
                  expected.put(id, parsed.targets());
                  for (int status : exchange(bytes, parsed, new Random(seed * 17 + id), seed, id)) {
                    statuses
                        .computeIfAbsent(status + "", k -> new AtomicInteger())
                        .incrementAndGet();
                  }
                  return null;
                }));
      }
      for (Future<?> run : runs) {
        run.get();
      }
    } finally {
      pool.shutdownNow();
    }
    System.out.println("HeadFuzzIT answers by status: " + statuses);

    // Mutations may turn one case's target into another's: any case's requests will do.
    Set<String> sent = new HashSet<>();
    expected.values().forEach(sent::addAll);
    for (RecordingUpstream.Received received : upstream.received()) {
      String head = received.headText();
      if (StrictRequests.targets(received.head()).size() != 1) {
        fail("seed " + seed + ": the upstream got a head the hub's rules refuse:\n" + head);
      }
      Matcher m = CASE.matcher(received.target());
      if (m.lookingAt() && !sent.contains(received.target())) {
        int id = Integer.parseInt(m.group(1));
        fail(
            "seed "
                + seed
                + ", case "
                + id
                + ": the upstream got "
                + received.target()
                + ", which no client sent as a request; case "
                + id
                + " sent "
                + expected.get(id));
      }
    }
    assertEquals(200, Client.get(Slime.url(hub, "/fuzz-after")).statusCode(), "seed " + seed);
  }

  /** One case's bytes: a few requests, mutated, then a last one that closes. */
  private static byte[] generate(Random random, int id) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int requests = 1 + random.nextInt(3);
    for (int i = 0; i < requests; i++) {
      out.writeBytes(request(random, "/fuzz/" + id + "/" + i));
    }
    byte[] bytes = out.toByteArray();
    int mutations = random.nextInt(10) < 2 ? 0 : 1 + random.nextInt(3);
    for (int i = 0; i < mutations; i++) {
      bytes = mutate(random, bytes);
    }
    out.reset();
    out.writeBytes(bytes);
    out.writeBytes(
        latin1("GET /fuzz/" + id + "/end HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"));
    return out.toByteArray();
  }

  private static byte[] request(Random random, String target) {
    StringBuilder head = new StringBuilder();
    String method = new String[] {"GET", "POST", "PUT", "DELETE", "PATCH"}[random.nextInt(5)];
    String version = random.nextInt(10) == 0 ? "HTTP/1.0" : "HTTP/1.1";
    head.append(method).append(' ').append(target).append(' ').append(version).append("\r\n");
    head.append("Host: h\r\n");
    for (int i = random.nextInt(4); i > 0; i--) {
      head.append(new String[] {"Accept", "X-A", "User-Agent", "Cookie"}[random.nextInt(4)])
          .append(random.nextBoolean() ? ": " : ":")
          .append(visible(random, random.nextInt(40)))
          .append("\r\n");
    }
    byte[] body = body(random, target);
    int framing = method.equals("GET") ? random.nextInt(2) : random.nextInt(3);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    if (framing == 1) {
      head.append("Content-Length: ").append(body.length).append("\r\n\r\n");
      out.writeBytes(latin1(head.toString()));
      out.writeBytes(body);
    } else if (framing == 2 && version.equals("HTTP/1.1")) {
      head.append(
          random.nextBoolean() ? "Transfer-Encoding: chunked" : "transfer-encoding:Chunked");
      head.append("\r\n\r\n");
      out.writeBytes(latin1(head.toString()));
      out.writeBytes(chunked(random, body));
    } else {
      out.writeBytes(latin1(head.append("\r\n").toString()));
    }
    return out.toByteArray();
  }

  /** A body that may hold a whole request of its own, which must never reach the upstream. */
  private static byte[] body(Random random, String target) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    byte[] noise = new byte[random.nextInt(300)];
    random.nextBytes(noise);
    body.writeBytes(noise);
    if (random.nextBoolean()) {
      String id = target.split("/")[2];
      body.writeBytes(
          latin1("GET /smuggled/" + id + "/x HTTP/1.1\r\nHost: h\r\nX-Injected: 1\r\n\r\n"));
    }
    return body.toByteArray();
  }

  private static byte[] chunked(Random random, byte[] body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int at = 0;
    while (at < body.length) {
      int size = Math.min(body.length - at, 1 + random.nextInt(120));
      String hex = Integer.toHexString(size);
      hex = random.nextBoolean() ? hex.toUpperCase(Locale.ROOT) : hex;
      out.writeBytes(latin1((random.nextInt(5) == 0 ? "0" : "") + hex));
      if (random.nextInt(4) == 0) {
        out.writeBytes(latin1(random.nextBoolean() ? ";name=value" : ";q=\"a b\""));
      }
      out.writeBytes(latin1("\r\n"));
      out.write(body, at, size);
      out.writeBytes(latin1("\r\n"));
      at += size;
    }
    out.writeBytes(latin1("0\r\n"));
    if (random.nextInt(4) == 0) {
      out.writeBytes(latin1("X-Trailer: " + visible(random, 10) + "\r\n"));
    }
    out.writeBytes(latin1("\r\n"));
    return out.toByteArray();
  }

  private static byte[] mutate(Random random, byte[] bytes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int at = bytes.length == 0 ? 0 : random.nextInt(bytes.length);
    switch (random.nextInt(7)) {
      case 0 -> { // insert an odd byte
        out.write(bytes, 0, at);
        out.write(ODD_BYTES[random.nextInt(ODD_BYTES.length)]);
        out.write(bytes, at, bytes.length - at);
      }
      case 1 -> { // replace a byte with an odd one
        out.writeBytes(bytes);
        byte[] replaced = out.toByteArray();
        if (replaced.length > 0) {
          replaced[at] = ODD_BYTES[random.nextInt(ODD_BYTES.length)];
        }
        return replaced;
      }
      case 2 -> { // drop a byte
        out.write(bytes, 0, at);
        out.write(bytes, Math.min(bytes.length, at + 1), Math.max(0, bytes.length - at - 1));
      }
      case 3 -> { // a line of its own after a line break
        int line = indexAfter(bytes, at, (byte) '\n');
        out.write(bytes, 0, line);
        out.writeBytes(latin1(LINES[random.nextInt(LINES.length)]));
        out.write(bytes, line, bytes.length - line);
      }
      case 4 -> { // change a digit: lengths and chunk sizes
        out.writeBytes(bytes);
        byte[] changed = out.toByteArray();
        for (int i = 0; i < changed.length; i++) {
          int j = (at + i) % changed.length;
          if (changed[j] >= '0' && changed[j] <= '9') {
            changed[j] = (byte) ('0' + random.nextInt(10));
            break;
          }
        }
        return changed;
      }
      case 5 -> out.write(bytes, 0, at); // cut short
      default -> { // repeat a stretch
        int length = Math.min(bytes.length - at, 1 + random.nextInt(40));
        out.write(bytes, 0, at + length);
        out.write(bytes, at, bytes.length - at);
      }
    }
    return out.toByteArray();
  }

  /**
   * Sends a case's bytes in a few pieces and reads every answer until the hub closes, or, when the
   * bytes are whole requests only (the last request's Connection: close may have been eaten as
   * body), until each has its answer; returns their statuses. Fails on a malformed answer, a hub
   * answer without Slime-Error, or a hang.
   */
  private static List<Integer> exchange(
      byte[] bytes, StrictRequests.Parsed parsed, Random random, long seed, int id)
      throws IOException {
    List<Integer> statuses = new ArrayList<>();
    String where = "seed " + seed + ", case " + id + " (" + printable(bytes) + ")";
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), hub.address().getPort())) {
      socket.setSoTimeout(READ_TIMEOUT_MS);
      socket.setTcpNoDelay(true);
      OutputStream out = socket.getOutputStream();
      try {
        int at = 0;
        for (int pieces = 1 + random.nextInt(3); pieces > 0 && at < bytes.length; pieces--) {
          int end = pieces == 1 ? bytes.length : at + random.nextInt(bytes.length - at + 1);
          out.write(bytes, at, end - at);
          out.flush();
          at = end;
        }
      } catch (SocketException e) {
        // The hub refused and closed before the rest was sent: its answer is still to be read.
      }
      InputStream in = new BufferedInputStream(socket.getInputStream());
      try {
        int answered = 0;
        while (!(parsed.whole() && answered == parsed.targets().size())) {
          String line = lineOrNull(in);
          if (line == null) {
            break;
          }
          int status = answer(line, in, where);
          statuses.add(status);
          answered += status >= 200 ? 1 : 0;
        }
      } catch (SocketTimeoutException e) {
        fail(where + ": no answer or close within " + READ_TIMEOUT_MS + " ms after " + statuses);
      } catch (SocketException e) {
        // Reset after the last answer: closed all the same.
      }
    }
    return statuses;
  }

  /** Reads one answer after its status line; returns its status. */
  private static int answer(String statusLine, InputStream in, String where) throws IOException {
    Matcher status = STATUS_LINE.matcher(statusLine);
    if (!status.matches()) {
      fail(where + ": malformed status line '" + statusLine + "'");
    }
    int code = Integer.parseInt(status.group(1));
    Map<String, String> headers = new java.util.HashMap<>();
    for (String line; !(line = lineOrFail(in, where)).isEmpty(); ) {
      int colon = line.indexOf(':');
      if (colon <= 0) {
        fail(where + ": malformed header line '" + line + "'");
      }
      headers.put(
          line.substring(0, colon).toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
    }
    if (code >= 200 && code != 200 && !headers.containsKey("slime-error")) {
      fail(where + ": the hub answered " + code + " without Slime-Error: " + headers);
    }
    if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      for (int size;
          (size = Integer.parseInt(lineOrFail(in, where).split(";")[0].trim(), 16)) > 0; ) {
        in.readNBytes(size);
        lineOrFail(in, where);
      }
      while (!lineOrFail(in, where).isEmpty()) {
        // trailers
      }
    } else if (headers.containsKey("content-length")) {
      int length = Integer.parseInt(headers.get("content-length"));
      if (in.readNBytes(length).length < length) {
        fail(where + ": an answer's body was cut short");
      }
    }
    return code;
  }

  private static String lineOrFail(InputStream in, String where) throws IOException {
    String line = lineOrNull(in);
    if (line == null) {
      fail(where + ": an answer was cut short");
    }
    return line;
  }

  private static String lineOrNull(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b; (b = in.read()) >= 0; ) {
      if (b == '\n') {
        String s = line.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
      }
      line.write(b);
    }
    return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
  }

  private static int indexAfter(byte[] bytes, int from, byte b) {
    for (int i = from; i < bytes.length; i++) {
      if (bytes[i] == b) {
        return i + 1;
      }
    }
    return bytes.length;
  }

  private static String visible(Random random, int length) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < length; i++) {
      s.append((char) (0x20 + random.nextInt(0x5f)));
    }
    return s.toString().strip();
  }

  private static byte[] latin1(String text) {
    return text.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static String printable(byte[] bytes) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < Math.min(bytes.length, 600); i++) {
      int b = bytes[i] & 0xff;
      s.append(b >= 0x20 && b < 0x7f ? String.valueOf((char) b) : String.format("\\x%02x", b));
    }
    return s.toString();
  }
}
