package io.slime.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.slime.agent.Agents;
import io.slime.hub.Hub;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * A hub stopping (SIGTERM, or close()) lets the requests it serves finish and turns others away.
 */
class ShutdownIT {
  private static final String ADMIN_TOKEN = "shutdown-admin";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The hub's waiting requests, as its admin API reports them. */
  private static int waitingAt(Hub hub) {
    HttpResponse<String> r =
        Client.get(
            Slime.url(hub, "/_slime/api/v1/cluster"), "Authorization", "Bearer " + ADMIN_TOKEN);
    try {
      return JSON.readTree(r.body()).at("/members/0/waiting").asInt();
    } catch (java.io.IOException e) {
      throw new IllegalStateException(r.body(), e);
    }
  }

  @Test
  void shouldFinishRequestsBeingServedAndAnswerWaitingOnes503() throws Exception {
    TestUpstream upstream = TestUpstream.start();
    Hub hub = Slime.hub(Map.of("shutdown-grace", "5s", "admin-token", ADMIN_TOKEN));
    Agents agent = Slime.agent(hub, Slime.token("drain"), upstream.address(), 1, "drain-agent");
    try {
      Slime.awaitWorkers(hub, 1, "/echo");
      CompletableFuture<HttpResponse<String>> served =
          Client.getAsync(Slime.url(hub, "/slow?ms=1500"), "Slime-Block", "1");
      Slime.awaitValue(upstream::inFlight, 1, 5_000);
      CompletableFuture<HttpResponse<String>> waiting =
          Client.getAsync(Slime.url(hub, "/echo"), "Slime-Block", "1");
      Slime.awaitValue(() -> waitingAt(hub), 1, 5_000); // it reached the queue

      long stopping = System.nanoTime();
      CompletableFuture<Void> closed = CompletableFuture.runAsync(hub::close);

      HttpResponse<String> turnedAway = waiting.join();
      assertEquals(503, turnedAway.statusCode(), turnedAway.body());
      assertEquals("shutting-down", Client.header(turnedAway, "Slime-Error"));
      assertTrue((System.nanoTime() - stopping) / 1_000_000 < 1_000, "answered at once");

      HttpResponse<String> finished = served.join();
      assertEquals(200, finished.statusCode(), finished.body());
      assertEquals("slept 1500\n", finished.body());
      closed.join();
    } finally {
      Slime.closeAll(agent, hub, upstream);
    }
  }
}
