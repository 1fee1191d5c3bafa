package io.slime.cli.demo;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.ClassicActorSystemProvider;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.pattern.Patterns;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small HTTP server to put behind slime in the demo and in integration tests: it echoes requests,
 * answers slowly, streams events and bytes, hashes uploads, and counts how many requests it is
 * serving at once, so a test can check the parallelism an upstream really sees.
 *
 * <p>Bodies are streamed both ways and never held in memory; the request timeout is off, so slow
 * answers and long event streams are not cut by the server itself.
 */
public final class SampleUpstream {
  private static final Logger log = LoggerFactory.getLogger(SampleUpstream.class);

  /** Size of the block {@link #pattern} repeats. */
  public static final int PATTERN_BLOCK = 64 * 1024;

  private static final ByteString BLOCK = patternBlock();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String INDEX =
      String.join(
          "\n",
          "slime sample upstream",
          "",
          "  /echo[/any/path]                 any method: the request as JSON, body hashed",
          "  /slow?ms=500                     answers after that many milliseconds",
          "  /events?count=10&intervalMs=200  text/event-stream, one event per interval",
          "  /bytes?size=N                    N bytes of a fixed pattern, with Content-Length",
          "  /upload                          POST or PUT: byte count and SHA-256 of the body",
          "");

  private final ActorSystem system;
  private final Materializer materializer;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger maxInFlight = new AtomicInteger();
  private volatile ServerBinding binding;

  private SampleUpstream(ClassicActorSystemProvider system) {
    this.system = system.classicSystem();
    this.materializer = Materializer.matFromSystem(system);
  }

  /** Binds on {@code host:port} (port 0 picks a free one); completes once it accepts requests. */
  public static CompletionStage<SampleUpstream> start(
      ClassicActorSystemProvider system, String host, int port) {
    SampleUpstream upstream = new SampleUpstream(system);
    // Slow answers and event streams last as long as the client asked: no server-side timeout.
    ServerSettings settings =
        ServerSettings.create(
            ConfigFactory.parseString("pekko.http.server.request-timeout = off")
                .withFallback(system.classicSystem().settings().config()));
    return Http.get(system)
        .newServerAt(host, port)
        .withSettings(settings)
        .bind(upstream::handle)
        .thenApply(
            bound -> {
              upstream.binding = bound;
              log.info("Sample upstream listening on {}", upstream.baseUrl());
              return upstream;
            });
  }

  public InetSocketAddress address() {
    return binding.localAddress();
  }

  public int port() {
    return address().getPort();
  }

  /** {@code http://host:port}, with an IPv6 host in brackets. */
  public String baseUrl() {
    InetSocketAddress address = address();
    String host = address.getAddress().getHostAddress();
    return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
  }

  /** Stops accepting, lets running requests finish for up to a second, then closes everything. */
  public CompletionStage<Done> stop() {
    return binding.terminate(Duration.ofSeconds(1)).thenApply(terminated -> Done.getInstance());
  }

  /** Requests being served now: counted from arrival until the response body is fully sent. */
  public int inFlight() {
    return inFlight.get();
  }

  /** The most requests served at once since start or the last {@link #resetMax}. */
  public int maxInFlight() {
    return maxInFlight.get();
  }

  public void resetMax() {
    maxInFlight.set(inFlight.get());
  }

  /**
   * The bytes {@code /bytes?size=N} sends: a {@value #PATTERN_BLOCK}-byte block where byte {@code
   * i} is {@code i % 251}, repeated and cut at {@code size}.
   */
  public static Source<ByteString, NotUsed> pattern(long size) {
    long fullBlocks = size / PATTERN_BLOCK;
    int rest = (int) (size % PATTERN_BLOCK);
    return Source.repeat(BLOCK)
        .take(fullBlocks)
        .concat(rest == 0 ? Source.empty() : Source.single(BLOCK.take(rest)));
  }

  private CompletionStage<HttpResponse> handle(HttpRequest request) {
    maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
    AtomicBoolean left = new AtomicBoolean();
    Runnable leave =
        () -> {
          if (left.compareAndSet(false, true)) {
            inFlight.decrementAndGet();
          }
        };
    CompletionStage<HttpResponse> response;
    try {
      response = route(request, leave);
    } catch (RuntimeException e) {
      response = CompletableFuture.failedFuture(e);
    }
    return response.handle(
        (ok, failure) -> {
          if (failure != null) {
            leave.run();
            log.warn("Sample upstream failed on {}", request.getUri().path(), failure);
            return text(StatusCodes.INTERNAL_SERVER_ERROR, "failed: " + failure.getMessage());
          }
          if (ok.entity().isStrict()) {
            leave.run(); // streamed entities call leave when their Source terminates
          }
          return ok;
        });
  }

  private CompletionStage<HttpResponse> route(HttpRequest request, Runnable leave) {
    String path = request.getUri().path();
    if (path.equals("/echo") || path.startsWith("/echo/")) {
      return echo(request);
    }
    if (path.equals("/upload")) {
      if (request.method() != HttpMethods.POST && request.method() != HttpMethods.PUT) {
        request.discardEntityBytes(materializer);
        return done(text(StatusCodes.METHOD_NOT_ALLOWED, "use POST or PUT"));
      }
      return upload(request);
    }
    request.discardEntityBytes(materializer);
    try {
      return switch (path) {
        case "/", "" -> done(text(StatusCodes.OK, INDEX));
        case "/slow" -> slow(longParam(request, "ms", 500));
        case "/events" ->
            done(
                events(
                    longParam(request, "count", 10), longParam(request, "intervalMs", 200), leave));
        case "/bytes" -> done(bytes(longParam(request, "size", 1024), leave));
        default -> done(text(StatusCodes.NOT_FOUND, "no such path: " + path + "\n\n" + INDEX));
      };
    } catch (IllegalArgumentException e) {
      return done(text(StatusCodes.BAD_REQUEST, e.getMessage()));
    }
  }

  private CompletionStage<HttpResponse> echo(HttpRequest request) {
    Map<String, String> headers = new LinkedHashMap<>();
    for (HttpHeader header : request.getHeaders()) {
      headers.merge(header.lowercaseName(), header.value(), (a, b) -> a + ", " + b);
    }
    headers.put("content-type", request.entity().getContentType().toString());
    request
        .entity()
        .getContentLengthOption()
        .ifPresent(length -> headers.put("content-length", Long.toString(length)));
    return hash(request)
        .thenApply(
            body -> {
              Map<String, Object> echo = new LinkedHashMap<>();
              echo.put("method", request.method().value());
              echo.put("path", request.getUri().path());
              echo.put("query", request.getUri().rawQueryString().orElse(""));
              echo.put("headers", headers);
              echo.put("bodyBytes", body.bytes());
              echo.put("bodySha256", body.sha256());
              return json(echo);
            });
  }

  private CompletionStage<HttpResponse> upload(HttpRequest request) {
    return hash(request)
        .thenApply(body -> json(Map.of("bytes", body.bytes(), "sha256", body.sha256())));
  }

  private CompletionStage<HttpResponse> slow(long millis) {
    String answer = "slow done after " + millis + " ms";
    return Patterns.after(
        Duration.ofMillis(millis),
        system.scheduler(),
        system.dispatcher(),
        () -> CompletableFuture.completedFuture(text(StatusCodes.OK, answer)));
  }

  private static HttpResponse events(long count, long intervalMs, Runnable leave) {
    Source<ByteString, NotUsed> events =
        Source.range(1, (int) Math.min(count, Integer.MAX_VALUE))
            .throttle(1, Duration.ofMillis(Math.max(1, intervalMs)))
            .map(i -> ByteString.fromString("data: event " + i + "\n\n"));
    return HttpResponse.create()
        .withEntity(
            HttpEntities.createChunked(
                MediaTypes.TEXT_EVENT_STREAM.toContentType(), untilDone(events, leave)));
  }

  private static HttpResponse bytes(long size, Runnable leave) {
    if (size == 0) {
      return HttpResponse.create().withEntity(ContentTypes.APPLICATION_OCTET_STREAM, new byte[0]);
    }
    return HttpResponse.create()
        .withEntity(
            HttpEntities.create(
                ContentTypes.APPLICATION_OCTET_STREAM, size, untilDone(pattern(size), leave)));
  }

  /** Byte count and SHA-256 of the request body, read as a stream of any length. */
  private record Hashed(long bytes, String sha256) {}

  private CompletionStage<Hashed> hash(HttpRequest request) {
    return request
        .entity()
        .withoutSizeLimit()
        .getDataBytes()
        .runWith(
            Sink.fold(
                new Digest(),
                (digest, chunk) -> {
                  digest.update(chunk);
                  return digest;
                }),
            materializer)
        .thenApply(Digest::result);
  }

  /** Mutable only inside the one fold that created it. */
  private static final class Digest {
    private final MessageDigest sha256;
    private long bytes;

    Digest() {
      try {
        sha256 = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }

    void update(ByteString chunk) {
      for (ByteBuffer buffer : chunk.getByteBuffers()) {
        sha256.update(buffer);
      }
      bytes += chunk.size();
    }

    Hashed result() {
      return new Hashed(bytes, HexFormat.of().formatHex(sha256.digest()));
    }
  }

  private static <T> Source<T, NotUsed> untilDone(Source<T, NotUsed> source, Runnable leave) {
    return source.watchTermination(
        (notUsed, done) -> {
          done.whenComplete((ok, failure) -> leave.run());
          return notUsed;
        });
  }

  private static long longParam(HttpRequest request, String name, long fallback) {
    Optional<String> value = request.getUri().query().get(name);
    if (value.isEmpty()) {
      return fallback;
    }
    try {
      long parsed = Long.parseLong(value.get());
      if (parsed < 0) {
        throw new NumberFormatException();
      }
      return parsed;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be a non-negative number\n");
    }
  }

  private static HttpResponse json(Object value) {
    try {
      return HttpResponse.create()
          .withEntity(ContentTypes.APPLICATION_JSON, JSON.writeValueAsString(value));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static HttpResponse text(StatusCode status, String s) {
    return HttpResponse.create()
        .withStatus(status)
        .withEntity(ContentTypes.TEXT_PLAIN_UTF8, s.endsWith("\n") ? s : s + "\n");
  }

  private static CompletionStage<HttpResponse> done(HttpResponse response) {
    return CompletableFuture.completedFuture(response);
  }

  private static ByteString patternBlock() {
    byte[] block = new byte[PATTERN_BLOCK];
    for (int i = 0; i < block.length; i++) {
      block[i] = (byte) (i % 251);
    }
    return ByteString.fromArrayUnsafe(block);
  }
}
