package io.slime.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.slime.agent.Agents;
import io.slime.hub.Hub;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Hub nodes of one cluster in one JVM, each on its own HTTP and cluster port: the agent is attached
 * to node B only, and applications call node A.
 */
class ClusterIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration FORMED = Duration.ofSeconds(40);
  private static final String ADMIN_TOKEN = "admin-secret";

  private static TestUpstream upstream;
  private static Hub nodeA;
  private static Hub nodeB;
  private static Agents agentAtB;
  private static int seedPort;

  @BeforeAll
  static void start() throws Exception {
    upstream = TestUpstream.start();
    seedPort = Slime.freePort();
    nodeA = clusterNode(seedPort);
    nodeB = clusterNode(Slime.freePort());
    agentAtB = Slime.agent(nodeB, Slime.token("far"), upstream.address(), 1, "far");
    awaitServedAt(nodeA, "far");
  }

  @AfterAll
  static void stop() {
    for (AutoCloseable c : new AutoCloseable[] {agentAtB, nodeB, nodeA, upstream}) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (Exception ignored) {
        // best effort
      }
    }
  }

  @Test
  void shouldServeARequestAtANodeWithoutWorkersByAWorkerOfAnother() throws Exception {
    for (int i = 0; i < 20; i++) {
      HttpResponse<String> response = Client.get(Slime.url(nodeA, "/echo/" + i + "?q=" + i));
      assertEquals(200, response.statusCode(), response.body());
      assertEquals("far", Client.header(response, "Slime-Agent"));
      JsonNode echo = JSON.readTree(response.body());
      assertEquals("/echo/" + i, echo.get("path").asText());
      assertEquals("q=" + i, echo.get("query").asText());
    }
  }

  @Test
  void shouldStreamLargeBodiesAcrossNodesBothWays() throws Exception {
    long size = 24L * 1024 * 1024;
    byte[] upload = new byte[(int) size];
    TestUpstream.pattern(0, upload, upload.length);
    HttpResponse<String> posted =
        Client.send(
            Client.request(Slime.url(nodeA, "/echo"), "Slime-Block", "1")
                .POST(HttpRequest.BodyPublishers.ofByteArray(upload))
                .build());
    assertEquals(200, posted.statusCode(), posted.body());
    JsonNode echo = JSON.readTree(posted.body());
    assertEquals(size, echo.get("bodySize").asLong());
    assertEquals(TestUpstream.patternSha256(size), echo.get("bodySha256").asText());

    HttpResponse<InputStream> download =
        Client.HTTP.send(
            Client.request(Slime.url(nodeA, "/bytes?size=" + size), "Slime-Block", "1")
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, download.statusCode());
    assertEquals(TestUpstream.patternSha256(size), sha256(download.body()));
  }

  @Test
  void shouldMakeABlockedRequestWaitForTheWorkerOfAnotherNodeAndFailFastWithoutBlock()
      throws Exception {
    // Occupy the only worker, through node B.
    CompletableFuture<HttpResponse<String>> busy =
        Client.getAsync(Slime.url(nodeB, "/slow?ms=1500"), "Slime-Block", "1");
    awaitInFlight(1);
    HttpResponse<String> refused = Client.get(Slime.url(nodeA, "/echo"));
    assertEquals(503, refused.statusCode());
    assertEquals("no-idle-worker", Client.header(refused, "Slime-Error"));

    long start = System.nanoTime();
    HttpResponse<String> waited = Client.get(Slime.url(nodeA, "/echo"), "Slime-Block", "1");
    long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertEquals(200, waited.statusCode(), waited.body());
    assertEquals(200, busy.get(10, TimeUnit.SECONDS).statusCode());
    assertTrue(waitedMs > 500, "it waited for the busy worker: " + waitedMs + " ms");
  }

  @Test
  void shouldServeWaitersOnBothNodesFirstComeFirstServed() throws Exception {
    CompletableFuture<HttpResponse<String>> busy =
        Client.getAsync(Slime.url(nodeB, "/slow?ms=1000"), "Slime-Block", "1");
    awaitInFlight(1);
    List<CompletableFuture<HttpResponse<String>>> order = new ArrayList<>();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      // Alternate nodes, 100 ms apart, so that arrival order is clear across nodes.
      Hub node = i % 2 == 0 ? nodeA : nodeB;
      order.add(Client.getAsync(Slime.url(node, "/echo/" + i), "Slime-Block", "1"));
      expected.add("/echo/" + i);
      Thread.sleep(100);
    }
    assertEquals(200, busy.get(10, TimeUnit.SECONDS).statusCode());
    for (CompletableFuture<HttpResponse<String>> f : order) {
      HttpResponse<String> r = f.get(10, TimeUnit.SECONDS);
      assertEquals(200, r.statusCode(), r.body());
    }
    List<String> served = upstream.servedPaths().stream().filter(expected::contains).toList();
    assertEquals(expected, served.subList(served.size() - expected.size(), served.size()));
  }

  @Test
  void shouldNoLongerOfferWorkToANodeThatLeaves() throws Exception {
    TestUpstream nearUpstream = TestUpstream.start();
    Hub nodeC = clusterNode(Slime.freePort());
    String onlyAtC = Slime.token("near", List.of("near"), List.of());
    Agents agentAtC = Slime.agent(nodeC, onlyAtC, nearUpstream.address(), 1, "near");
    try {
      awaitServedAt(nodeA, "near", "Slime-Scope", "near");
    } finally {
      agentAtC.close();
      nodeC.close();
      nearUpstream.close();
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    HttpResponse<String> r = null;
    while (System.nanoTime() < deadline) {
      r = Client.get(Slime.url(nodeA, "/echo"), "Slime-Scope", "near");
      if (r.statusCode() == 503 && "no-matching-worker".equals(Client.header(r, "Slime-Error"))) {
        assertEquals(200, Client.get(Slime.url(nodeA, "/echo")).statusCode(), "B still serves");
        return;
      }
      Thread.sleep(100);
    }
    fail("node A still counts on node C after it left: " + r.statusCode() + " " + r.body());
  }

  @Test
  void shouldMoveAnAgentGivenSeveralHubsOnFromOneItCannotReach() throws Exception {
    TestUpstream ownUpstream = TestUpstream.start();
    String unreachable = "127.0.0.1:" + Slime.freePort();
    String token = Slime.token("mover", List.of("mover"), List.of());
    Agents mover =
        Slime.agent(
            unreachable + "," + Slime.hubAddress(nodeB), token, ownUpstream.address(), 1, "mover");
    try {
      awaitServedAt(nodeA, "mover", "Slime-Scope", "mover");
    } finally {
      mover.close();
      ownUpstream.close();
    }
  }

  @Test
  void shouldListTheMembersAndTheirWorkersToAnAdminAtEveryNode() throws Exception {
    for (Hub node : List.of(nodeA, nodeB)) {
      // A node or agent another test stopped stays listed for a few seconds (a node as Exiting).
      HttpResponse<String> r = clusterView(node);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (!settled(r) && System.nanoTime() < deadline) {
        Slime.sleep(200);
        r = clusterView(node);
      }
      assertEquals(200, r.statusCode(), r.body());
      JsonNode members = JSON.readTree(r.body()).get("members");
      int workers = 0;
      for (JsonNode member : members) {
        assertEquals("Up", member.get("status").asText(), r.body());
        workers += member.get("workers").asInt();
      }
      assertTrue(members.size() >= 2, r.body());
      assertEquals(1, workers, "the one worker, attached to node B: " + r.body());
    }
    HttpResponse<String> anonymous = Client.get(Slime.url(nodeA, "/_slime/api/v1/cluster"));
    assertEquals(401, anonymous.statusCode());
    assertEquals("unauthorized", JSON.readTree(anonymous.body()).get("error").asText());
    HttpResponse<String> wrong =
        Client.get(Slime.url(nodeA, "/_slime/api/v1/cluster"), "Authorization", "Bearer nope");
    assertEquals(401, wrong.statusCode());
  }

  /** Every member Up and, over them all, only the one worker this class keeps connected. */
  private static boolean settled(HttpResponse<String> view) throws Exception {
    if (view.statusCode() != 200) {
      return false;
    }
    int workers = 0;
    for (JsonNode member : JSON.readTree(view.body()).get("members")) {
      if (!member.get("status").asText().equals("Up")) {
        return false;
      }
      workers += member.get("workers").asInt();
    }
    return workers == 1;
  }

  private static HttpResponse<String> clusterView(Hub node) {
    return Client.get(
        Slime.url(node, "/_slime/api/v1/cluster"), "Authorization", "Bearer " + ADMIN_TOKEN);
  }

  @Test
  void shouldRefuseARevokedTokenAtEveryNodeAndDisconnectItsWorkers() throws Exception {
    TestUpstream ownUpstream = TestUpstream.start();
    String token = Slime.token("doomed", List.of("doomed"), List.of());
    Agents doomed = Slime.agent(nodeB, token, ownUpstream.address(), 1, "doomed");
    try {
      awaitServedAt(nodeA, "doomed", "Slime-Scope", "doomed");

      HttpResponse<String> revoked =
          Client.send(
              Client.request(
                      Slime.url(nodeA, "/_slime/api/v1/tokens/revoke"),
                      "Authorization",
                      "Bearer " + ADMIN_TOKEN,
                      "Content-Type",
                      "application/json")
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          JSON.writeValueAsString(Map.of("token", token))))
                  .build());
      assertEquals(200, revoked.statusCode(), revoked.body());
      assertEquals("doomed", JSON.readTree(revoked.body()).get("name").asText());

      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      HttpResponse<String> r = null;
      while (System.nanoTime() < deadline) {
        r = Client.get(Slime.url(nodeA, "/echo"), "Slime-Scope", "doomed");
        // While its connection closes, the worker still counts, busy: wait for it to be gone.
        if ("no-matching-worker".equals(Client.header(r, "Slime-Error"))) {
          break;
        }
        Thread.sleep(100);
      }
      assertEquals("no-matching-worker", Client.header(r, "Slime-Error"), "worker disconnected");
      // The node the agent reconnects to refuses it, and says why.
      HttpResponse<String> upgrade =
          Client.get(
              Slime.url(nodeB, "/_slime/connect"),
              "Slime-Agent-Token",
              token,
              "Slime-Agent-Id",
              "doomed",
              "Slime-Worker-Index",
              "0");
      assertEquals(401, upgrade.statusCode());
      assertTrue(upgrade.body().contains("revoked"), upgrade.body());
    } finally {
      doomed.close();
      ownUpstream.close();
    }
  }

  @Test
  void shouldLetADrainedAgentFinishItsRequestAndGiveItNoNewOneOnAnyNode() throws Exception {
    CompletableFuture<HttpResponse<String>> busy =
        Client.getAsync(Slime.url(nodeA, "/slow?ms=800"), "Slime-Block", "1");
    awaitInFlight(1);
    try {
      assertEquals(200, admin(nodeA, "POST", "/agents/far/drain").statusCode());
      assertEquals(200, busy.get(10, TimeUnit.SECONDS).statusCode(), "the request in flight ends");
      for (Hub node : List.of(nodeA, nodeB)) {
        HttpResponse<String> r = Client.get(Slime.url(node, "/echo"));
        assertEquals(503, r.statusCode(), "drained everywhere: " + r.body());
        assertEquals("no-available-worker", Client.header(r, "Slime-Error"));
      }
    } finally {
      assertEquals(200, admin(nodeB, "DELETE", "/agents/far/drain").statusCode());
    }
    awaitServedAt(nodeA, "far");
  }

  private static HttpResponse<String> admin(Hub node, String method, String endpoint) {
    return Client.send(
        Client.request(
                Slime.url(node, "/_slime/api/v1" + endpoint),
                "Authorization",
                "Bearer " + ADMIN_TOKEN)
            .method(method, HttpRequest.BodyPublishers.noBody())
            .build());
  }

  private static Hub clusterNode(int clusterPort) {
    return Slime.hub(
        Map.of(
            "admin-token",
            ADMIN_TOKEN,
            "cluster.host",
            "127.0.0.1",
            "cluster.port",
            clusterPort,
            "cluster.seeds",
            List.of("127.0.0.1:" + seedPort)));
  }

  /** Polls node until a request without Slime-Block is served by the named agent. */
  private static void awaitServedAt(Hub node, String agentName, String... headers)
      throws InterruptedException {
    long deadline = System.nanoTime() + FORMED.toNanos();
    HttpResponse<String> last = null;
    while (System.nanoTime() < deadline) {
      last = Client.get(Slime.url(node, "/echo"), headers);
      if (last.statusCode() == 200 && agentName.equals(Client.header(last, "Slime-Agent"))) {
        return;
      }
      Thread.sleep(200);
    }
    fail(
        "not served by "
            + agentName
            + " within "
            + FORMED
            + "; last answer: "
            + last.statusCode()
            + " "
            + last.body());
  }

  private static void awaitInFlight(int n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (upstream.inFlight() < n && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(n, upstream.inFlight());
  }

  private static String sha256(InputStream in) throws IOException {
    MessageDigest digest = TestUpstream.sha256();
    byte[] buf = new byte[64 * 1024];
    try (in) {
      for (int n; (n = in.read(buf)) > 0; ) {
        digest.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }
}
