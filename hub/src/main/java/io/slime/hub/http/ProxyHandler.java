package io.slime.hub.http;

import io.slime.hub.dispatch.Dispatcher;
import io.slime.hub.dispatch.Exchange;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.stream.Materializer;

/** Application requests: checks the app password, takes a --concurrent slot, hands to dispatch. */
final class ProxyHandler {
  private final ActorRef<Dispatcher.Command> dispatcher;
  private final byte[] appPassword;
  private final AdmissionGate gate;
  private final Materializer materializer;

  ProxyHandler(
      ActorRef<Dispatcher.Command> dispatcher,
      String appPassword,
      AdmissionGate gate,
      Materializer materializer) {
    this.dispatcher = dispatcher;
    this.appPassword = appPassword.isEmpty() ? null : appPassword.getBytes(StandardCharsets.UTF_8);
    this.gate = gate;
    this.materializer = materializer;
  }

  CompletionStage<HttpResponse> handle(HttpRequest request, ClientConnection client) {
    ForwardedHeaders headers = ForwardedHeaders.of(request, client.clientIp);
    if (appPassword != null && !passwordMatches(headers.appPassword)) {
      request.discardEntityBytes(materializer);
      return CompletableFuture.completedFuture(ProxyError.WRONG_APP_PASSWORD.response());
    }
    Uri uri = request.getUri();
    String path = uri.path();
    String target = uri.rawQueryString().map(q -> path + "?" + q).orElse(path);
    Exchange exchange =
        new Exchange(
            request.method().value(),
            target,
            path,
            headers.forwarded,
            request.entity(),
            headers.scope,
            headers.block);
    client.track(exchange);
    if (gate == null) {
      dispatcher.tell(new Dispatcher.Dispatch(exchange));
    } else {
      gate.admit(exchange)
          .thenAccept(
              refused -> {
                if (refused == null) {
                  dispatcher.tell(new Dispatcher.Dispatch(exchange));
                } else {
                  exchange.respond(refused.response());
                  exchange.finish();
                }
              });
    }
    return exchange.response();
  }

  /** Constant time, so the password cannot be guessed byte by byte from response times. */
  private boolean passwordMatches(String given) {
    byte[] candidate = given == null ? new byte[0] : given.getBytes(StandardCharsets.UTF_8);
    return MessageDigest.isEqual(candidate, appPassword);
  }
}
