package io.slime.it;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** The application: the JDK's HTTP client, HTTP/1.1 only (no h2c upgrade headers). */
final class Client {
  static final Duration TIMEOUT = Duration.ofSeconds(30);
  static final HttpClient HTTP =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  private Client() {}

  /** A request builder with the test timeout; {@code headers} are name, value pairs. */
  static HttpRequest.Builder request(String url, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(TIMEOUT);
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return b;
  }

  static HttpResponse<String> get(String url, String... headers) {
    return send(request(url, headers).GET().build());
  }

  static CompletableFuture<HttpResponse<String>> getAsync(String url, String... headers) {
    return HTTP.sendAsync(request(url, headers).GET().build(), BodyHandlers.ofString());
  }

  static HttpResponse<String> send(HttpRequest request) {
    try {
      return HTTP.send(request, BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException(request.method() + " " + request.uri() + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static String header(HttpResponse<?> response, String name) {
    return response.headers().firstValue(name).orElse(null);
  }
}
