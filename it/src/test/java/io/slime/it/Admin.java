package io.slime.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.slime.hub.Hub;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** Calls a hub's admin API as an operator would, with curl's worth of HTTP. */
final class Admin {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Admin() {}

  /** {@code endpoint} is under /_slime/api/v1; {@code body} is JSON or null. */
  static HttpResponse<String> call(
      Hub hub, String token, String method, String endpoint, String body) {
    HttpRequest.Builder request = Client.request(Slime.url(hub, "/_slime/api/v1" + endpoint));
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    return Client.send(
        request
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body))
            .build());
  }

  static JsonNode json(HttpResponse<String> response) {
    try {
      return JSON.readTree(response.body());
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + response.body(), e);
    }
  }
}
