package io.slime.hub.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.slime.shared.token.AgentToken;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Every answer of the admin API and the status summary, byte for byte: status, the headers that
 * matter to a client and the body, for each endpoint with good and bad input, against a cluster of
 * stand-in dispatchers whose views are fixed. The transcript in {@code admin-answers.txt} was
 * recorded from the hub before its admin API moved onto the routing DSL; it is the contract.
 */
class AdminAnswersTest {
  private static final ActorTestKit testKit = ActorTestKit.create("AdminAnswersTest");

  /** A token of this hub, shown in the transcript by name since sealing it is not repeatable. */
  private static volatile String sealed = "";

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void shouldAnswerEveryEndpointAsRecorded() throws Exception {
    StringBuilder transcript = new StringBuilder();
    String api = "/_slime/api/v1";
    String bearer = "Bearer " + StandInHub.ADMIN;

    try (StandInHub.Served hub = StandInHub.serve(testKit, StandInHub.ADMIN, false)) {
      Call call =
          (method, path, auth, type, body) ->
              record(transcript, hub, method, path, auth, type, body);
      call.at("GET", "/_slime/status", null, null, null);
      call.at("GET", api + "/agents", null, null, null);
      call.at("GET", api + "/agents", "Basic dDBrZW4=", null, null);
      call.at("GET", api + "/agents", "Bearer wrong", null, null);
      call.at("GET", api + "/nowhere", "Bearer wrong", null, null);
      call.at("GET", api + "/agents", "bearer  " + StandInHub.ADMIN + " ", null, null);
      call.at("GET", api + "/agents/a1", bearer, null, null);
      call.at("GET", api + "/agents/a2", bearer, null, null);
      call.at("GET", api + "/agents/nobody", bearer, null, null);
      call.at("GET", api + "/agents/", bearer, null, null);
      call.at("GET", api + "/agents/a1/", bearer, null, null);
      call.at("GET", api + "/agents/a1/drain/x", bearer, null, null);
      call.at("GET", api + "/agents//drain", bearer, null, null);
      call.at("GET", api + "/agents/a1/what", bearer, null, null);
      call.at("POST", api + "/agents", bearer, null, null);
      call.at("PUT", api + "/agents", bearer, "application/json", "{}");
      call.at("HEAD", api + "/agents", bearer, null, null);
      call.at("DELETE", api + "/agents/a1", bearer, null, null);
      call.at("POST", api + "/agents/a1", bearer, null, null);
      call.at("PATCH", api + "/agents/a1/drain", bearer, null, null);
      call.at("GET", api + "/agents/a1/drain", bearer, null, null);
      call.at("GET", api + "/agents/a1/disconnect", bearer, null, null);
      call.at("DELETE", api + "/agents/a1/disconnect", bearer, null, null);

      String json = "application/json";
      String form = "application/x-www-form-urlencoded";
      call.at("PUT", api + "/agents/a1", bearer, json, "{\"weight\": 5, \"rpm\": null}");
      call.at("PUT", api + "/agents/a1", bearer, form, "{\"bpm\": 7, \"draining\": true}");
      call.at("PUT", api + "/agents/a1", bearer, null, "{\"draining\": false}");
      call.at("GET", api + "/agents/a1", bearer, null, null);
      call.at("PUT", api + "/agents/a1", bearer, json, "{\"weight\": -1}");
      call.at("PUT", api + "/agents/a1", bearer, json, "{\"weight\": 1.5}");
      call.at("PUT", api + "/agents/a1", bearer, json, "{\"weight\": 2.0}");
      call.at("PUT", api + "/agents/a1", bearer, json, "{\"weight\": 1000000000}");
      call.at("PUT", api + "/agents/a1", bearer, json, "{\"rpm\": \"x\"}");
      call.at("PUT", api + "/agents/a1", bearer, json, "{\"bpm\": -3}");
      call.at("PUT", api + "/agents/a1", bearer, json, "{\"draining\": 1}");
      call.at("PUT", api + "/agents/a1", bearer, json, "{\"draining\": null}");
      call.at("PUT", api + "/agents/a1", bearer, json, "{\"bogus\": 1, \"weight\": -1}");
      call.at("PUT", api + "/agents/a1", bearer, json, "[1]");
      call.at("PUT", api + "/agents/a1", bearer, json, "\"weight\"");
      call.at("PUT", api + "/agents/a1", bearer, json, "null");
      call.at("PUT", api + "/agents/a1", bearer, json, "not json");
      call.at("PUT", api + "/agents/a1", bearer, json, "{\"weight\": ");
      call.at("PUT", api + "/agents/a1", bearer, json, "");
      call.at("PUT", api + "/agents/a1", bearer, json, "{\"weight\": 1, \"weight\": null}");
      call.at("PUT", api + "/agents/a1", bearer, json, "{\"weight\": 3}" + " ".repeat(70_000));
      call.at("PUT", api + "/agents/new-one", bearer, json, "{\"rpm\": 60}");
      call.at("PUT", api + "/agents/new-one", bearer, json, "{\"rpm\": null}");

      call.at("POST", api + "/agents/a1/drain", bearer, null, null);
      call.at("GET", api + "/agents/a1", bearer, null, null);
      call.at("DELETE", api + "/agents/a1/drain", bearer, null, null);
      call.at("POST", api + "/agents/nobody/drain", bearer, null, null);
      call.at("POST", api + "/agents/a1/disconnect", bearer, null, null);
      call.at("POST", api + "/agents/nobody/disconnect", bearer, null, null);

      call.at("GET", api + "/stats", bearer, null, null);
      call.at("GET", api + "/stats?x=1", bearer, null, null);
      call.at("GET", api + "/stats/agents/a1", bearer, null, null);
      call.at("GET", api + "/stats/agents/a2", bearer, null, null);
      call.at("GET", api + "/stats/agents/nobody", bearer, null, null);
      call.at("GET", api + "/stats/", bearer, null, null);
      call.at("GET", api + "/stats/agents", bearer, null, null);
      call.at("GET", api + "/stats/agents/", bearer, null, null);
      call.at("GET", api + "/stats/x/y", bearer, null, null);
      call.at("POST", api + "/stats", bearer, null, null);
      call.at("POST", api + "/stats/agents/a1", bearer, null, null);
      call.at("POST", api + "/stats/x/y", bearer, null, null);

      call.at("GET", api + "/config", bearer, null, null);
      call.at("POST", api + "/config", bearer, null, null);
      call.at("GET", api + "/config/", bearer, null, null);
      call.at("GET", api + "/cluster", bearer, null, null);
      call.at("DELETE", api + "/cluster", bearer, null, null);
      call.at("GET", api + "/cluster/x", bearer, null, null);

      sealed =
          StandInHub.TOKENS.seal(
              new AgentToken(77, "gpu1", Instant.parse("2999-01-01T00:00:00Z"), null, null, null));
      call.at("POST", api + "/tokens/revoke", bearer, json, "{\"token\": \"" + sealed + "\"}");
      call.at("POST", api + "/tokens/revoke", bearer, null, "{\"id\": 123, \"extra\": true}");
      call.at("POST", api + "/tokens/revoke", bearer, json, "{\"id\": 12.7}");
      call.at("POST", api + "/tokens/revoke", bearer, json, "{\"id\": \"123\"}");
      call.at("POST", api + "/tokens/revoke", bearer, json, "{\"id\": null, \"token\": null}");
      call.at("POST", api + "/tokens/revoke", bearer, json, "{\"token\": \"garbage\"}");
      call.at("POST", api + "/tokens/revoke", bearer, json, "{\"token\": 5}");
      call.at("POST", api + "/tokens/revoke", bearer, json, "{}");
      call.at("POST", api + "/tokens/revoke", bearer, json, "[]");
      call.at("POST", api + "/tokens/revoke", bearer, json, "not json");
      call.at("POST", api + "/tokens/revoke", bearer, json, "");
      call.at("GET", api + "/tokens/revoke", bearer, null, null);
      call.at("POST", api + "/tokens", bearer, null, null);
      call.at("POST", api + "/tokens/revoke/", bearer, null, null);

      call.at("GET", api + "/", bearer, null, null);
      call.at("GET", api + "/nowhere", bearer, null, null);
      call.at("DELETE", api + "/nowhere/else", bearer, null, null);

      StandInHub.withSilentNode = true;
      try {
        call.at("GET", api + "/agents", bearer, null, null);
        call.at("GET", api + "/stats", bearer, null, null);
      } finally {
        StandInHub.withSilentNode = false;
      }
    }
    try (StandInHub.Served hub = StandInHub.serve(testKit, "", false)) {
      record(transcript, hub, "GET", "/_slime/status", null, null, null);
      record(transcript, hub, "GET", api + "/agents", bearer, null, null);
      record(transcript, hub, "PUT", api + "/agents/a1", bearer, "application/json", "{}");
    }
    try (StandInHub.Served hub = StandInHub.serve(testKit, "", true)) {
      record(transcript, hub, "GET", "/_slime/status", bearer, null, null);
    }
    try (StandInHub.Served hub = StandInHub.serve(testKit, StandInHub.ADMIN, true)) {
      record(transcript, hub, "GET", "/_slime/status", null, null, null);
      record(transcript, hub, "GET", "/_slime/status", "Bearer wrong", null, null);
      record(transcript, hub, "GET", "/_slime/status", bearer, null, null);
      record(transcript, hub, "POST", "/_slime/status", bearer, null, null);
    }

    String expected;
    try (InputStream in = getClass().getResourceAsStream("admin-answers.txt")) {
      expected = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    if (!expected.equals(transcript.toString())) {
      Files.writeString(Path.of("target", "admin-answers.actual.txt"), transcript);
    }
    assertEquals(expected, transcript.toString());
  }

  @FunctionalInterface
  private interface Call {
    void at(String method, String path, String auth, String contentType, String body)
        throws Exception;
  }

  private static void record(
      StringBuilder transcript,
      StandInHub.Served hub,
      String method,
      String path,
      String auth,
      String contentType,
      String body)
      throws IOException, InterruptedException {
    HttpResponse<String> response = hub.send(method, path, auth, contentType, body);
    String shownBody =
        body == null
            ? ""
            : " "
                + (body.length() > 1000 ? body.strip() + " + blanks" : body)
                    .replace(sealed.isEmpty() ? "\0" : sealed, "<sealed token>");
    transcript
        .append("> ")
        .append(method)
        .append(' ')
        .append(path)
        .append(auth == null ? "" : " [" + auth + "]")
        .append(contentType == null ? "" : " (" + contentType + ")")
        .append(shownBody)
        .append('\n')
        .append("< ")
        .append(response.statusCode())
        .append(header(response, "Content-Type"))
        .append(header(response, "Slime-Error"))
        .append(header(response, "Allow"))
        .append(header(response, "Retry-After"))
        .append('\n')
        .append(response.body())
        .append(response.body().endsWith("\n") ? "" : "\n")
        .append('\n');
  }

  private static String header(HttpResponse<String> response, String name) {
    return response.headers().firstValue(name).map(v -> " " + name + ": " + v).orElse("");
  }
}
