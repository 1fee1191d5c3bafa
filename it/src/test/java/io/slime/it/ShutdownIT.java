package io.slime.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slime.agent.Agents;
import io.slime.hub.Hub;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** A hub stopping (SIGTERM, or close()) lets the requests it serves finish and turns others away. */
class ShutdownIT {

  @Test
  void shouldFinishRequestsBeingServedAndAnswerWaitingOnes503() throws Exception {
    TestUpstream upstream = TestUpstream.start();
    Hub hub = Slime.hub(Map.of("shutdown-grace", "5s"));
    Agents agent = Slime.agent(hub, Slime.token("drain"), upstream.address(), 1, "drain-agent");
    try {
      Slime.awaitWorkers(hub, 1, "/echo");
      CompletableFuture<HttpResponse<String>> served =
          Client.getAsync(Slime.url(hub, "/slow?ms=1500"), "Slime-Block", "1");
      Slime.awaitValue(upstream::inFlight, 1, 5_000);
      CompletableFuture<HttpResponse<String>> waiting =
          Client.getAsync(Slime.url(hub, "/echo"), "Slime-Block", "1");
      Slime.sleep(200); // let it reach the queue

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
