package io.slime.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.slime.agent.Agents;
import io.slime.hub.Hub;
import java.io.InputStream;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bodies stream through hub and agent as they are produced and consumed: events arrive one by one,
 * and 50 MB either way pass without being held anywhere (the test JVM runs hub, agent, upstream and
 * client in -Xmx768m, and backpressure is checked directly).
 */
class StreamingIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long FIFTY_MB = 50L * 1024 * 1024;

  /**
   * A paused download may fill the socket buffers of three TCP hops, which Linux grows to several
   * MB each (10 to 30 MB in all was seen here): a body far larger than that tells them apart from a
   * stage that holds the whole body.
   */
  private static final long PAUSED_DOWNLOAD = 256L * 1024 * 1024;

  private static final long MOST_BUFFERED = 96L * 1024 * 1024;

  private static TestUpstream upstream;
  private static Hub hub;
  private static Agents agents;

  @BeforeAll
  static void start() {
    upstream = TestUpstream.start();
    hub = Slime.hub();
    agents = Slime.agent(hub, Slime.token("streaming"), upstream.address(), 1, "streaming");
    Slime.awaitWorkers(hub, 1, "/echo");
  }

  @AfterAll
  static void stop() {
    Slime.closeAll(agents, hub, upstream);
  }

  @Test
  void shouldDeliverServerSentEventsOneByOne() throws Exception {
    long start = System.nanoTime();
    HttpResponse<Stream<String>> r =
        Client.HTTP.send(
            Client.request(Slime.url(hub, "/events?count=10&intervalMs=200")).GET().build(),
            BodyHandlers.ofLines());
    assertEquals(200, r.statusCode());
    assertTrue(Client.header(r, "Content-Type").startsWith("text/event-stream"));

    List<Long> arrivals = new ArrayList<>();
    List<String> events = new ArrayList<>();
    try (Stream<String> lines = r.body()) {
      lines
          .filter(line -> line.startsWith("data: "))
          .forEach(
              line -> {
                arrivals.add((System.nanoTime() - start) / 1_000_000);
                events.add(line);
              });
    }
    long total = (System.nanoTime() - start) / 1_000_000;

    assertEquals(10, events.size(), events.toString());
    for (int i = 0; i < 10; i++) {
      assertEquals("data: event " + i, events.get(i));
    }
    assertTrue(arrivals.get(0) < 1000, "first event after " + arrivals.get(0) + " ms");
    assertTrue(total >= 1700, "the stream ended after " + total + " ms, events were held");
    // Each event arrives near its own time, not bunched with the next ones.
    for (int i = 1; i < 10; i++) {
      long sinceFirst = arrivals.get(i) - arrivals.get(0);
      assertTrue(
          sinceFirst >= i * 200L - 150 && sinceFirst <= i * 200L + 700,
          "event " + i + " came " + sinceFirst + " ms after the first: " + arrivals);
    }
  }

  @Test
  void shouldStreamALargeDownloadWithBackpressure() throws Exception {
    HttpResponse<InputStream> r =
        Client.HTTP.send(
            Client.request(Slime.url(hub, "/bytes?size=" + PAUSED_DOWNLOAD)).GET().build(),
            BodyHandlers.ofInputStream());
    assertEquals(200, r.statusCode());
    long sentBefore = upstream.bytesSent();
    MessageDigest digest = TestUpstream.sha256();
    long read = 0;
    try (InputStream in = r.body()) {
      byte[] buf = new byte[64 * 1024];
      // Take 1 MB, then stop reading: the upstream must soon stop being able to write.
      while (read < 1024 * 1024) {
        int n = in.read(buf);
        digest.update(buf, 0, n);
        read += n;
      }
      Slime.sleep(1500);
      long writtenWhilePaused = upstream.bytesSent() - sentBefore;
      assertTrue(
          writtenWhilePaused < MOST_BUFFERED,
          "the upstream wrote "
              + writtenWhilePaused
              + " bytes while the client had read "
              + read
              + ": something buffers the body");
      for (int n; (n = in.read(buf)) > 0; ) {
        digest.update(buf, 0, n);
        read += n;
      }
    }
    assertEquals(PAUSED_DOWNLOAD, read);
    assertEquals(
        TestUpstream.patternSha256(PAUSED_DOWNLOAD), HexFormat.of().formatHex(digest.digest()));
  }

  @Test
  void shouldCarryAGibibyteDownloadInBoundedMemory() throws Exception {
    long size = 1024L * 1024 * 1024; // more than this JVM's whole heap (-Xmx768m in it/pom.xml)
    HttpResponse<InputStream> r =
        Client.HTTP.send(
            Client.request(Slime.url(hub, "/bytes?size=" + size)).GET().build(),
            BodyHandlers.ofInputStream());
    assertEquals(200, r.statusCode());
    MessageDigest digest = TestUpstream.sha256();
    long read = 0;
    try (InputStream in = r.body()) {
      byte[] buf = new byte[256 * 1024];
      for (int n; (n = in.read(buf)) > 0; ) {
        digest.update(buf, 0, n);
        read += n;
      }
    }
    assertEquals(size, read);
    assertEquals(TestUpstream.patternSha256(size), HexFormat.of().formatHex(digest.digest()));
  }

  @Test
  void shouldStreamA50MbUpload() throws Exception {
    PatternStream body = new PatternStream(FIFTY_MB);
    HttpResponse<String> r =
        Client.send(
            Client.request(Slime.url(hub, "/upload"), "Content-Type", "application/octet-stream")
                .POST(
                    BodyPublishers.fromPublisher(
                        BodyPublishers.ofInputStream(() -> body), FIFTY_MB))
                .build());

    assertEquals(200, r.statusCode(), r.body());
    JsonNode result = JSON.readTree(r.body());
    assertEquals(FIFTY_MB, result.get("size").asLong());
    assertEquals(TestUpstream.patternSha256(FIFTY_MB), result.get("sha256").asText());
    assertTrue(
        upstream.uploadFirstByteNanos() < body.finishedNanos,
        "the upstream saw the first byte only after the client had sent the last one");
  }

  @Test
  void shouldFreeTheWorkerWhenTheApplicationLeavesMidStream() throws Exception {
    int brokenBefore = upstream.brokenBodies();
    try (RawHttp app = RawHttp.connect(hub.address().getPort())) {
      app.send("GET", "/events?count=100&intervalMs=100");
      assertEquals(200, app.readHead().status());
      app.readLine(); // the first chunk size: the stream has begun
    }
    assertWorkerFreeSoon();
    Slime.awaitValue(upstream::brokenBodies, brokenBefore + 1, 3000);
  }

  @Test
  void shouldFreeTheWorkerWhenTheApplicationLeavesMidUpload() throws Exception {
    int brokenBefore = upstream.brokenBodies();
    try (RawHttp app = RawHttp.connect(hub.address().getPort())) {
      app.send(
          "POST",
          "/upload",
          "Content-Length: " + FIFTY_MB,
          "Content-Type: application/octet-stream");
      byte[] chunk = new byte[1024 * 1024];
      TestUpstream.pattern(0, chunk, chunk.length);
      app.write(chunk);
      Slime.sleep(300);
    }
    assertWorkerFreeSoon();
    Slime.awaitValue(upstream::brokenBodies, brokenBefore + 1, 3000);
  }

  private static void assertWorkerFreeSoon() {
    long start = System.nanoTime();
    HttpResponse<String> next = Client.get(Slime.url(hub, "/echo"), "Slime-Block", "1");
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertEquals(200, next.statusCode(), next.body());
    assertTrue(ms < 1000, "the worker was free only after " + ms + " ms");
  }

  /** The test pattern, generated as it is read; notes when its last byte was taken. */
  private static final class PatternStream extends InputStream {
    private final long size;
    private long position;
    volatile long finishedNanos = Long.MAX_VALUE;

    PatternStream(long size) {
      this.size = size;
    }

    @Override
    public int read() {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (position >= size) {
        return -1;
      }
      int n = (int) Math.min(len, size - position);
      for (int i = 0; i < n; i++) {
        b[off + i] = TestUpstream.pattern(position + i);
      }
      position += n;
      if (position == size) {
        finishedNanos = System.nanoTime();
      }
      return n;
    }
  }
}
