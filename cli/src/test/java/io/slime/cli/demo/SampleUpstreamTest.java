package io.slime.cli.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SampleUpstreamTest {

  // A short server request timeout proves the upstream turns it off for itself; a larger client
  // pool lets the parallelism test really send its requests at once.
  private static final ActorSystem<Void> system =
      ActorSystem.create(
          Behaviors.empty(),
          "SampleUpstreamTest",
          ConfigFactory.parseString(
                  "pekko.http.server.request-timeout = 1s\n"
                      + "pekko.http.host-connection-pool.max-connections = 16\n"
                      + "pekko.http.host-connection-pool.max-open-requests = 64")
              .withFallback(ConfigFactory.load()));
  private static final ObjectMapper JSON = new ObjectMapper();

  private static SampleUpstream upstream;

  @BeforeAll
  static void start() throws Exception {
    upstream =
        SampleUpstream.start(system, "127.0.0.1", 0).toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    upstream.stop().toCompletableFuture().get(5, TimeUnit.SECONDS);
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void shouldListItsEndpointsAtTheRoot() throws Exception {
    HttpResponse response = send(HttpRequest.GET(url("/")));

    assertEquals(200, response.status().intValue());
    String index = text(response);
    for (String endpoint : List.of("/echo", "/slow", "/events", "/bytes", "/upload")) {
      assertTrue(index.contains(endpoint), index);
    }
    assertTrue(upstream.baseUrl().startsWith("http://127.0.0.1:"));
    assertTrue(upstream.port() > 0);
  }

  @Test
  void shouldEchoTheRequestWithItsBodyHashed() throws Exception {
    byte[] body = randomBytes(300_000);
    HttpRequest request =
        HttpRequest.PUT(url("/echo/some/deeper/path?x=1&name=%C3%A9"))
            .withHeaders(
                List.of(RawHeader.create("X-Test", "hello"), RawHeader.create("X-Test", "again")))
            .withEntity(
                HttpEntities.createChunked(
                    ContentTypes.APPLICATION_OCTET_STREAM,
                    Source.single(ByteString.fromArray(body)).mapConcat(b -> split(b, 8192))));

    HttpResponse response = send(request);

    assertEquals(200, response.status().intValue());
    JsonNode echo = JSON.readTree(text(response));
    assertEquals("PUT", echo.get("method").asText());
    assertEquals("/echo/some/deeper/path", echo.get("path").asText());
    assertEquals("x=1&name=%C3%A9", echo.get("query").asText());
    assertEquals("hello, again", echo.get("headers").get("x-test").asText());
    assertEquals("application/octet-stream", echo.get("headers").get("content-type").asText());
    assertEquals(body.length, echo.get("bodyBytes").asLong());
    assertEquals(sha256(body), echo.get("bodySha256").asText());
  }

  @Test
  void shouldEchoABodylessRequest() throws Exception {
    JsonNode echo = JSON.readTree(text(send(HttpRequest.GET(url("/echo")))));

    assertEquals("GET", echo.get("method").asText());
    assertEquals("/echo", echo.get("path").asText());
    assertEquals("", echo.get("query").asText());
    assertEquals(0, echo.get("bodyBytes").asLong());
    assertEquals(sha256(new byte[0]), echo.get("bodySha256").asText());
  }

  @Test
  void shouldAnswerSlowlyPastTheServersDefaultRequestTimeout() throws Exception {
    long started = System.nanoTime();

    HttpResponse response = send(HttpRequest.GET(url("/slow?ms=1300")));

    assertEquals(200, response.status().intValue());
    assertEquals("slow done after 1300 ms", text(response).trim());
    assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) >= 1300);
  }

  @Test
  void shouldStreamEventsOneByOne() throws Exception {
    long started = System.nanoTime();
    HttpResponse response = send(HttpRequest.GET(url("/events?count=4&intervalMs=150")));

    assertEquals(MediaTypes.TEXT_EVENT_STREAM, response.entity().getContentType().mediaType());
    assertFalse(response.entity().isStrict());
    List<Long> arrivals = new ArrayList<>();
    String events =
        response
            .entity()
            .getDataBytes()
            .map(
                chunk -> {
                  arrivals.add(System.nanoTime());
                  return chunk.utf8String();
                })
            .runWith(Sink.fold("", String::concat), system)
            .toCompletableFuture()
            .get(5, TimeUnit.SECONDS);

    assertEquals("data: event 1\n\ndata: event 2\n\ndata: event 3\n\ndata: event 4\n\n", events);
    assertTrue(arrivals.size() >= 2, "events arrive as separate chunks: " + arrivals.size());
    assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) >= 3 * 150);
  }

  @Test
  void shouldSendTheRequestedNumberOfPatternBytes() throws Exception {
    long size = 3 * SampleUpstream.PATTERN_BLOCK + 12_345;
    HttpResponse response = send(HttpRequest.GET(url("/bytes?size=" + size)));

    assertEquals(200, response.status().intValue());
    assertEquals(size, response.entity().getContentLengthOption().getAsLong());
    String expected =
        hash(
            SampleUpstream.pattern(size)
                .runWith(Sink.fold(ByteString.emptyByteString(), ByteString::concat), system));
    String received =
        hash(
            response
                .entity()
                .getDataBytes()
                .runWith(Sink.fold(ByteString.emptyByteString(), ByteString::concat), system));
    assertEquals(expected, received);
    byte[] start =
        SampleUpstream.pattern(300)
            .runWith(Sink.head(), system)
            .toCompletableFuture()
            .get(5, TimeUnit.SECONDS)
            .toArray();
    assertEquals(300, start.length);
    assertEquals(250, start[250] & 0xFF);
    assertEquals(0, start[251]);

    HttpResponse empty = send(HttpRequest.GET(url("/bytes?size=0")));
    assertEquals(200, empty.status().intValue());
    assertEquals("", text(empty));
  }

  @Test
  void shouldHashAStreamedUpload() throws Exception {
    byte[] body = randomBytes(5 * 1024 * 1024 + 7);
    for (HttpRequest request :
        List.of(HttpRequest.POST(url("/upload")), HttpRequest.PUT(url("/upload")))) {
      HttpResponse response =
          send(
              request.withEntity(
                  HttpEntities.create(
                      ContentTypes.APPLICATION_OCTET_STREAM,
                      body.length,
                      Source.from(split(ByteString.fromArray(body), 64 * 1024)))));

      assertEquals(200, response.status().intValue());
      JsonNode answer = JSON.readTree(text(response));
      assertEquals(body.length, answer.get("bytes").asLong());
      assertEquals(sha256(body), answer.get("sha256").asText());
    }
    assertEquals(405, send(HttpRequest.GET(url("/upload"))).status().intValue());
  }

  @Test
  void shouldRefuseUnknownPathsAndBadParameters() throws Exception {
    assertEquals(404, send(HttpRequest.GET(url("/nope"))).status().intValue());
    assertEquals(400, send(HttpRequest.GET(url("/slow?ms=soon"))).status().intValue());
    assertEquals(400, send(HttpRequest.GET(url("/bytes?size=-1"))).status().intValue());
  }

  @Test
  void shouldCountRequestsInFlight() throws Exception {
    upstream.resetMax();
    List<CompletionStage<HttpResponse>> slow = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      slow.add(Http.get(system).singleRequest(HttpRequest.GET(url("/slow?ms=700"))));
    }
    awaitInFlight(6);
    for (CompletionStage<HttpResponse> response : slow) {
      HttpResponse done = response.toCompletableFuture().get(5, TimeUnit.SECONDS);
      done.discardEntityBytes(system);
    }
    awaitInFlight(0);
    assertEquals(6, upstream.maxInFlight());

    upstream.resetMax();
    assertEquals(0, upstream.maxInFlight());
    // A streamed answer counts until its last byte is sent, not when its head is.
    HttpResponse events = send(HttpRequest.GET(url("/events?count=3&intervalMs=300")));
    assertEquals(1, upstream.inFlight());
    events
        .discardEntityBytes(system)
        .completionStage()
        .toCompletableFuture()
        .get(5, TimeUnit.SECONDS);
    awaitInFlight(0);
    assertEquals(1, upstream.maxInFlight());
  }

  private static void awaitInFlight(int expected) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (upstream.inFlight() != expected && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(expected, upstream.inFlight());
  }

  private static String url(String path) {
    return upstream.baseUrl() + path;
  }

  private static HttpResponse send(HttpRequest request) throws Exception {
    return Http.get(system).singleRequest(request).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static String text(HttpResponse response) throws Exception {
    return response
        .entity()
        .toStrict(5_000, system)
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS)
        .getData()
        .utf8String();
  }

  private static String hash(CompletionStage<ByteString> bytes) throws Exception {
    return sha256(bytes.toCompletableFuture().get(10, TimeUnit.SECONDS).toArray());
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  private static List<ByteString> split(ByteString bytes, int size) {
    List<ByteString> pieces = new ArrayList<>();
    for (int i = 0; i < bytes.size(); i += size) {
      pieces.add(bytes.slice(i, Math.min(i + size, bytes.size())));
    }
    return pieces;
  }

  private static byte[] randomBytes(int size) {
    byte[] bytes = new byte[size];
    new Random(size).nextBytes(bytes);
    return bytes;
  }
}
