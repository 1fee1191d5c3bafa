package io.slime.agent.testing;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * A real HTTP server standing in for an upstream, bound to port 0. It counts the requests it works
 * on at once and notices when a client abandons a streamed response.
 */
public final class TestUpstream extends AllDirectives implements AutoCloseable {
  private final ServerBinding binding;
  private final AtomicInteger active = new AtomicInteger();
  private final AtomicInteger maxActive = new AtomicInteger();
  private volatile CompletableFuture<Throwable> hangEnded = new CompletableFuture<>();
  private final AtomicInteger healthStatus = new AtomicInteger(200);
  private final ActorSystem<?> system;

  public TestUpstream(ActorSystem<?> system) throws Exception {
    this.system = system;
    this.binding =
        Http.get(system)
            .newServerAt("127.0.0.1", 0)
            .bind(route())
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
  }

  public int port() {
    return binding.localAddress().getPort();
  }

  public String address() {
    return "127.0.0.1:" + port();
  }

  public int maxActive() {
    return maxActive.get();
  }

  public void resetCounters() {
    maxActive.set(0);
    hangEnded = new CompletableFuture<>();
  }

  /** What /health answers from now on (200 at first). */
  public void healthStatus(int status) {
    healthStatus.set(status);
  }

  /** Completes when the body of the current /hang response was abandoned by its client. */
  public CompletableFuture<Throwable> hangEnded() {
    return hangEnded;
  }

  /** Deterministic bytes for /bytes/{n}. */
  public static ByteString pattern(int size) {
    byte[] bytes = new byte[size];
    for (int i = 0; i < size; i++) {
      bytes[i] = (byte) (i * 31 + (i >> 10));
    }
    return ByteString.fromArrayUnsafe(bytes);
  }

  private Route route() {
    return concat(
        path(
            "hello",
            () ->
                get(
                    () ->
                        optionalHeaderValueByName(
                            "User-Agent",
                            ua ->
                                headerValueByName(
                                    "Host",
                                    host ->
                                        respondWithHeader(
                                            RawHeader.create("X-Test", "yes"),
                                            () ->
                                                respondWithHeader(
                                                    RawHeader.create("X-Seen-Host", host),
                                                    () ->
                                                        complete(
                                                            "hello "
                                                                + ua.orElse("(no agent)")))))))),
        path(
            "echo",
            () ->
                post(
                    () ->
                        extractRequestEntity(
                            entity ->
                                complete(
                                    HttpResponse.create()
                                        .withStatus(StatusCodes.CREATED)
                                        .withEntity(
                                            HttpEntities.createChunked(
                                                entity.getContentType(),
                                                entity.withoutSizeLimit().getDataBytes())))))),
        path(
            "echo-strict",
            () ->
                post(
                    () ->
                        extractRequestEntity(
                            entity ->
                                onSuccess(
                                    entity.toStrict(5000, system),
                                    strict ->
                                        complete(
                                            HttpResponse.create()
                                                .withEntity(
                                                    HttpEntities.create(
                                                        strict.getContentType(),
                                                        strict.getData()))))))),
        pathPrefix(
            "bytes",
            () ->
                path(
                    size ->
                        complete(
                            HttpResponse.create()
                                .withEntity(
                                    HttpEntities.createChunked(
                                        ContentTypes.APPLICATION_OCTET_STREAM,
                                        Source.single(pattern(Integer.parseInt(size)))
                                            .mapConcat(TestUpstream::pieces)))))),
        path("slow", () -> onSuccess(slow(), body -> complete(body))),
        path(
            "health",
            () ->
                complete(
                    HttpResponse.create().withStatus(healthStatus.get()).withEntity("health"))),
        path(
            "hang",
            () -> {
              CompletableFuture<Throwable> ended = hangEnded;
              Source<ByteString, ?> body =
                  Source.single(ByteString.fromString("first"))
                      .concat(Source.maybe())
                      .watchTermination(
                          (mat, done) -> {
                            done.whenComplete((d, t) -> ended.complete(t));
                            return mat;
                          });
              return complete(
                  HttpResponse.create()
                      .withEntity(HttpEntities.createChunked(ContentTypes.TEXT_PLAIN_UTF8, body)));
            }),
        path("pending", () -> onSuccess(new CompletableFuture<String>(), body -> complete(body))),
        path(
            "close",
            () ->
                respondWithHeader(
                    org.apache.pekko.http.javadsl.model.headers.Connection.create("close"),
                    () -> complete("closing"))));
  }

  private static java.util.List<ByteString> pieces(ByteString all) {
    java.util.List<ByteString> out = new java.util.ArrayList<>();
    for (int i = 0; i < all.size(); i += 100_000) {
      out.add(all.slice(i, Math.min(all.size(), i + 100_000)));
    }
    return out;
  }

  private CompletionStage<String> slow() {
    int now = active.incrementAndGet();
    maxActive.accumulateAndGet(now, Math::max);
    CompletableFuture<String> done = new CompletableFuture<>();
    CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS)
        .execute(
            () -> {
              active.decrementAndGet();
              done.complete("slow done");
            });
    return done;
  }

  @Override
  public void close() {
    binding.unbind();
  }
}
