package io.slime.hub.http;

import io.slime.hub.dispatch.Dispatcher;
import io.slime.hub.limit.ClientRateLimiter;
import io.slime.hub.model.Demand;
import io.slime.hub.model.Job;
import io.slime.hub.model.ProxiedRequest;
import io.slime.hub.model.ProxyError;
import io.slime.hub.model.RequestTraits;
import io.slime.hub.model.ResponseSlot;
import io.slime.hub.stats.TrafficStats;
import io.slime.shared.stream.SilenceTimeout;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.function.LongConsumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.RequestEntity;
import org.apache.pekko.http.javadsl.model.ResponseEntity;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Application requests: checks the app password and the client's rate, reads the Slime-* headers
 * into the request's traits, takes a --concurrent slot, hands to dispatch, and counts what comes
 * back in the node's traffic.
 */
final class ProxyHandler {
  private static final Logger log = LoggerFactory.getLogger(ProxyHandler.class);

  private final ActorRef<Dispatcher.Command> dispatcher;
  private final byte[] appPassword;
  private final AdmissionGate gate;
  private final ClientRateLimiter clientLimit;
  private final HubSettings settings;
  private final TrafficStats traffic;
  private final Materializer materializer;

  ProxyHandler(
      ActorRef<Dispatcher.Command> dispatcher,
      HubSettings settings,
      AdmissionGate gate,
      ClientRateLimiter clientLimit,
      TrafficStats traffic,
      Materializer materializer) {
    this.dispatcher = dispatcher;
    String password = settings.appPassword();
    this.appPassword = password.isEmpty() ? null : password.getBytes(StandardCharsets.UTF_8);
    this.settings = settings;
    this.gate = gate;
    this.clientLimit = clientLimit;
    this.traffic = traffic;
    this.materializer = materializer;
  }

  CompletionStage<HttpResponse> handle(HttpRequest request, ClientConnection client) {
    long started = System.nanoTime();
    HubSettings.Traffic policy = settings.traffic();
    ForwardedHeaders headers =
        ForwardedHeaders.of(request, client.clientIp, policy.realIp(), policy.maxPriority());
    if (appPassword != null && !passwordMatches(headers.appPassword)) {
      return refuse(request, ProxyError.WRONG_APP_PASSWORD.response(), started);
    }
    if (headers.problem != null) {
      return refuse(request, ProxyError.BAD_HEADER.response(headers.problem), started);
    }
    if (clientLimit != null) {
      long waitNanos = clientLimit.acquire(headers.clientIp, started);
      if (waitNanos > 0) {
        long seconds = Math.max(1, (waitNanos + 999_999_999) / 1_000_000_000);
        return refuse(
            request,
            ProxyError.CLIENT_LIMIT.response(ProxyError.CLIENT_LIMIT.reason(), seconds),
            started);
      }
    }
    Uri uri = request.getUri();
    String path = uri.path();
    String target =
        asteriskForm(request) ? "*" : uri.rawQueryString().map(q -> path + "?" + q).orElse(path);
    Duration maxWait =
        headers.blockTimeout == null || headers.blockTimeout.compareTo(settings.queueMaxWait()) > 0
            ? settings.queueMaxWait()
            : headers.blockTimeout;
    RequestTraits traits =
        new RequestTraits(
            new Demand(headers.scope, path, headers.select, null),
            headers.block,
            headers.priority >= 0 ? headers.priority : policy.defaultPriority(),
            maxWait,
            policy.routing().policyFor(path, headers.protocol),
            headers.clientIp);
    ResponseSlot slot = new ResponseSlot();
    RequestEntity entity = counted(request.entity(), () -> bodyStalled(slot, client));
    Job job =
        new Job(
            ProxiedRequest.of(
                request.method().value(), target, path, headers.forwarded, entity, traits),
            slot);
    client.track(slot);
    slot.finished().thenRun(() -> traffic.ended(System.nanoTime() - started));
    if (gate == null) {
      dispatcher.tell(new Dispatcher.Dispatch(job));
    } else {
      gate.admit(slot)
          .thenAccept(
              refused -> {
                if (refused == null) {
                  dispatcher.tell(new Dispatcher.Dispatch(job));
                } else {
                  slot.answer(refused.response());
                  slot.finish();
                }
              });
    }
    return slot.response().thenApply(response -> observed(response, started));
  }

  /**
   * Whether this is {@code OPTIONS *}, about the server as a whole: Pekko parses the asterisk as an
   * authority, leaving no path, and an upstream must see it as it came rather than as {@code /}.
   */
  private static boolean asteriskForm(HttpRequest request) {
    Uri uri = request.getUri();
    return request.method().equals(org.apache.pekko.http.javadsl.model.HttpMethods.OPTIONS)
        && uri.path().isEmpty()
        && uri.host().address().equals("*");
  }

  private CompletionStage<HttpResponse> refuse(
      HttpRequest request, HttpResponse answer, long started) {
    request.discardEntityBytes(materializer);
    traffic.ended(System.nanoTime() - started);
    return CompletableFuture.completedFuture(observed(answer, started));
  }

  /** Counts the answer and, as it streams, its body. */
  private HttpResponse observed(HttpResponse response, long started) {
    traffic.answered(
        response.status().intValue(),
        response.getHeader("Slime-Error").map(h -> h.value()).orElse(null),
        System.nanoTime() - started);
    if (response.entity() instanceof HttpEntity.Strict strict) {
      traffic.bytesOut(strict.getData().size());
      return response;
    }
    ResponseEntity entity = response.entity();
    Source<ByteString, ?> data = entity.getDataBytes().map(counter(traffic::bytesOut));
    // Rebuilt rather than transformed, which would turn a known length into chunks.
    return response.withEntity(
        entity.getContentLengthOption().isPresent()
            ? HttpEntities.create(
                entity.getContentType(), entity.getContentLengthOption().getAsLong(), data)
            : HttpEntities.createChunked(entity.getContentType(), data));
  }

  /**
   * The request body, its bytes counted as they stream; {@code onStall} runs when the client sends
   * nothing for slime.hub.client-body-timeout while the hub reads, just before the body fails.
   */
  private RequestEntity counted(RequestEntity entity, Runnable onStall) {
    if (entity instanceof HttpEntity.Strict strict) {
      traffic.bytesIn(strict.getData().size());
      return entity;
    }
    Source<ByteString, ?> data =
        entity
            .withoutSizeLimit()
            .getDataBytes()
            .via(new SilenceTimeout<>(settings.clientBodyTimeout()))
            .mapError(
                TimeoutException.class,
                stalled -> {
                  onStall.run();
                  return stalled;
                })
            .map(counter(traffic::bytesIn));
    return entity.getContentLengthOption().isPresent()
        ? HttpEntities.create(
            entity.getContentType(), entity.getContentLengthOption().getAsLong(), data)
        : HttpEntities.createChunked(entity.getContentType(), data);
  }

  private static org.apache.pekko.japi.function.Function<ByteString, ByteString> counter(
      LongConsumer count) {
    return bytes -> {
      count.accept(bytes.size());
      return bytes;
    };
  }

  /**
   * The upload stopped while the hub was reading it: answered 408 if nothing was answered yet, and
   * treated as an application gone away, so its worker cancels the upstream call and is free.
   */
  private void bodyStalled(ResponseSlot slot, ClientConnection client) {
    String reason =
        "no request body bytes came for " + settings.clientBodyTimeout().toMillis() + " ms";
    log.warn("Gave up a request from {}: {}", client.clientIp, reason);
    slot.answer(ProxyError.REQUEST_TIMEOUT.closingResponse(reason));
    slot.markGone();
  }

  /** Constant time, so the password cannot be guessed byte by byte from response times. */
  private boolean passwordMatches(String given) {
    byte[] candidate = given == null ? new byte[0] : given.getBytes(StandardCharsets.UTF_8);
    return MessageDigest.isEqual(candidate, appPassword);
  }
}
