package io.slime.hub.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.slime.shared.token.AgentToken;
import java.net.http.HttpResponse;
import java.time.Instant;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The admin routes by endpoint group, through a real client on a bound port. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdminRoutesTest {
  private static final ActorTestKit testKit = ActorTestKit.create("AdminRoutesTest");

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String API = "/_slime/api/v1";
  private static final String BEARER = "Bearer " + StandInHub.ADMIN;

  private StandInHub.Served hub;

  @BeforeAll
  void serve() {
    hub = StandInHub.serve(testKit, StandInHub.ADMIN, false);
  }

  @AfterAll
  void stop() {
    hub.close();
    testKit.shutdownTestKit();
  }

  @Test
  void shouldListAgentsMergedAcrossNodesAndShowOne() throws Exception {
    JsonNode agents = ok(hub.send("GET", API + "/agents", BEARER, null, null)).get("agents");
    assertEquals(2, agents.size());
    JsonNode a1 = agents.get(0);
    assertEquals("a1", a1.get("id").asText());
    assertEquals(3, a1.get("workers").size(), "workers of both nodes");
    assertEquals("idle", a1.get("state").asText(), "idle when any node's workers are");
    assertFalse(a1.has("ejectedUntil"));
    assertTrue(agents.get(1).has("ejectedUntil"));
    assertFalse(ok(hub.send("GET", API + "/agents", BEARER, null, null)).has("missingNodes"));

    JsonNode a2 = ok(hub.send("GET", API + "/agents/a2", BEARER, null, null));
    assertEquals("ejected", a2.get("state").asText());
    assertEquals(0.5, a2.get("weight").asDouble());
  }

  @Test
  void shouldChangeDrainAndDisconnectAnAgent() throws Exception {
    JsonNode changed =
        ok(hub.send("PUT", API + "/agents/a2", BEARER, null, "{\"rpm\": 30, \"bpm\": null}"));
    assertEquals("a2", changed.get("agent").asText());
    assertEquals(30, changed.get("rpm").asLong());
    assertTrue(changed.get("bpm").isNull());
    JsonNode overrides =
        ok(hub.send("GET", API + "/agents/a2", BEARER, null, null)).get("overrides");
    assertEquals(30, overrides.get("rpm").asLong());

    assertTrue(
        ok(hub.send("POST", API + "/agents/a2/drain", BEARER, null, null))
            .get("draining")
            .asBoolean());
    assertFalse(
        ok(hub.send("DELETE", API + "/agents/a2/drain", BEARER, null, null))
            .get("draining")
            .asBoolean());
    ok(hub.send("PUT", API + "/agents/a2", BEARER, null, "{\"rpm\": null}"));

    assertEquals(
        3,
        ok(hub.send("POST", API + "/agents/a1/disconnect", BEARER, null, null))
            .get("disconnected")
            .asInt(),
        "2 on one node, 1 on the other");
  }

  @Test
  void shouldRefuseABadAgentChangeWithBadRequest() throws Exception {
    HttpResponse<String> bad =
        hub.send("PUT", API + "/agents/a1", BEARER, null, "{\"weight\": -1}");
    error(bad, 400, "bad-request");
    assertTrue(detail(bad).startsWith("weight must be a whole number"));
    error(hub.send("PUT", API + "/agents/a1", BEARER, null, "{\"nope\": 1}"), 400, "bad-request");
    error(hub.send("PUT", API + "/agents/a1", BEARER, null, "{"), 400, "bad-request");
    error(
        hub.send("PUT", API + "/agents/a1", BEARER, null, " ".repeat(70_000)), 400, "bad-request");
  }

  @Test
  void shouldAnswerStatsForTheClusterAndForOneAgent() throws Exception {
    JsonNode stats = ok(hub.send("GET", API + "/stats", BEARER, null, null));
    assertEquals(47, stats.get("requests").asLong());
    assertEquals(2, stats.get("nodes").size());
    assertEquals(41, stats.get("statuses").get("2xx").asLong());
    JsonNode a1 = ok(hub.send("GET", API + "/stats/agents/a1", BEARER, null, null));
    assertEquals("a1", a1.get("agent").asText());
    assertEquals(10, a1.get("requests").asLong());
    error(hub.send("GET", API + "/stats/agents/nobody", BEARER, null, null), 404, "not-found");
  }

  @Test
  void shouldAnswerTheClusterTheConfigAndTheStatus() throws Exception {
    JsonNode members = ok(hub.send("GET", API + "/cluster", BEARER, null, null)).get("members");
    assertEquals(2, members.size());
    assertEquals(2, members.get(0).get("busy").asInt());
    JsonNode hubConfig = ok(hub.send("GET", API + "/config", BEARER, null, null)).get("slime");
    assertEquals("<redacted>", hubConfig.get("hub").get("secret").asText());
    JsonNode status = ok(hub.send("GET", "/_slime/status", null, null, null));
    assertEquals(5, status.get("workers").asInt());
  }

  @Test
  void shouldRevokeATokenGivenWholeOrById() throws Exception {
    String token =
        StandInHub.TOKENS.seal(
            new AgentToken(42, "box", Instant.parse("2999-01-01T00:00:00Z"), null, null, null));
    JsonNode whole =
        ok(
            hub.send(
                "POST", API + "/tokens/revoke", BEARER, null, "{\"token\": \"" + token + "\"}"));
    assertEquals(42, whole.get("revoked").asLong());
    assertEquals("box", whole.get("name").asText());
    JsonNode byId = ok(hub.send("POST", API + "/tokens/revoke", BEARER, null, "{\"id\": 43}"));
    assertFalse(byId.has("name"));
    error(
        hub.send("POST", API + "/tokens/revoke", BEARER, null, "{\"token\": \"x\"}"),
        400,
        "bad-token");
    error(hub.send("POST", API + "/tokens/revoke", BEARER, null, "{}"), 400, "bad-request");
  }

  @Test
  void shouldAnswer401UnauthorizedWithoutTheAdminToken() throws Exception {
    HttpResponse<String> none = hub.send("GET", API + "/agents", null, null, null);
    error(none, 401, "unauthorized");
    assertEquals("no Authorization header", detail(none));
    HttpResponse<String> wrong = hub.send("DELETE", API + "/nowhere", "Bearer nope", null, null);
    error(wrong, 401, "unauthorized");
    assertEquals("wrong admin token", detail(wrong));
    try (StandInHub.Served locked = StandInHub.serve(testKit, StandInHub.ADMIN, true)) {
      error(locked.send("GET", "/_slime/status", null, null, null), 401, "unauthorized");
    }
  }

  @Test
  void shouldAnswer404NotFoundForNoSuchEndpointOrAgent() throws Exception {
    HttpResponse<String> nowhere = hub.send("GET", API + "/nowhere", BEARER, null, null);
    error(nowhere, 404, "not-found");
    assertEquals("no admin endpoint GET /_slime/api/v1/nowhere", detail(nowhere));
    error(hub.send("GET", API + "/agents/nobody", BEARER, null, null), 404, "not-found");
    error(
        hub.send("POST", API + "/agents/nobody/disconnect", BEARER, null, null), 404, "not-found");
    error(hub.send("GET", API + "/tokens/revoke", BEARER, null, null), 404, "not-found");
    try (StandInHub.Served closed = StandInHub.serve(testKit, "", false)) {
      HttpResponse<String> reserved = closed.send("GET", API + "/agents", BEARER, null, null);
      assertEquals(404, reserved.statusCode());
      assertEquals("reserved-path", reserved.headers().firstValue("Slime-Error").orElse(null));
    }
  }

  @Test
  void shouldAnswer405MethodNotAllowedForAnotherMethod() throws Exception {
    HttpResponse<String> post = hub.send("POST", API + "/agents", BEARER, null, null);
    error(post, 405, "method-not-allowed");
    assertEquals("use GET", detail(post));
    assertFalse(post.headers().firstValue("Allow").isPresent(), "none was ever sent");
    HttpResponse<String> delete = hub.send("DELETE", API + "/agents/a1", BEARER, null, null);
    error(delete, 405, "method-not-allowed");
    assertEquals("GET shows the agent, PUT changes it", detail(delete));
    error(hub.send("GET", API + "/agents/a1/drain", BEARER, null, null), 405, "method-not-allowed");
    error(
        hub.send("GET", API + "/agents/a1/disconnect", BEARER, null, null),
        405,
        "method-not-allowed");
    error(hub.send("PUT", API + "/stats", BEARER, null, "{}"), 405, "method-not-allowed");
  }

  private static JsonNode ok(HttpResponse<String> response) throws Exception {
    assertEquals(200, response.statusCode(), response.body());
    assertEquals("application/json", response.headers().firstValue("Content-Type").orElse(null));
    return JSON.readTree(response.body());
  }

  /** An admin error: its status, its code in Slime-Error and in the JSON body. */
  private static void error(HttpResponse<String> response, int status, String code)
      throws Exception {
    assertEquals(status, response.statusCode(), response.body());
    assertEquals(code, response.headers().firstValue("Slime-Error").orElse(null));
    assertEquals(code, JSON.readTree(response.body()).get("error").asText());
  }

  private static String detail(HttpResponse<String> response) throws Exception {
    return JSON.readTree(response.body()).get("detail").asText();
  }
}
