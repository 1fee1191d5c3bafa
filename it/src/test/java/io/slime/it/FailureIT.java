package io.slime.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.slime.agent.Agents;
import io.slime.hub.Hub;
import java.net.URI;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Applications, agents and hubs going away at the worst moment. */
class FailureIT {
  private static HangingUpstream hanging;
  private static Hub hangHub;
  private static Agents hangAgents;

  @BeforeAll
  static void start() throws Exception {
    hanging = HangingUpstream.start();
    hangHub = Slime.hub();
    hangAgents = Slime.agent(hangHub, Slime.token("hanging"), hanging.address(), 1, "hanging");
    Slime.awaitWorkers(hangHub, 1, "/quick");
  }

  @AfterAll
  static void stop() {
    Slime.closeAll(hangAgents, hangHub, hanging);
  }

  @Test
  void shouldFreeTheWorkerWhenTheApplicationLeaves() throws Exception {
    drainArrivals();
    RawHttp app = RawHttp.connect(hangHub.address().getPort());
    app.send("GET", "/hang-leaving");
    assertEquals("/hang-leaving", hanging.awaitArrival(5000));
    Slime.sleep(300);
    app.close();

    long start = System.nanoTime();
    HttpResponse<String> next = Client.get(Slime.url(hangHub, "/quick"), "Slime-Block", "1");
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertEquals(200, next.statusCode(), next.body());
    assertTrue(ms < 1000, "the worker was free only after " + ms + " ms");
    assertEquals("/hang-leaving", hanging.awaitAbort(2000), "the upstream call was not aborted");
  }

  @Test
  void shouldServeWaitingRequestsInArrivalOrder() throws Exception {
    drainArrivals();
    RawHttp busy = RawHttp.connect(hangHub.address().getPort());
    busy.send("GET", "/hang-fifo");
    assertEquals("/hang-fifo", hanging.awaitArrival(5000));
    List<CompletableFuture<HttpResponse<String>>> waiting = new java.util.ArrayList<>();
    for (int i = 0; i < 5; i++) {
      waiting.add(Client.getAsync(Slime.url(hangHub, "/quick?n=" + i), "Slime-Block", "1"));
      Slime.sleep(100);
    }
    busy.close();
    waiting.forEach(w -> assertEquals(200, w.join().statusCode()));
    List<String> order = new java.util.ArrayList<>();
    for (int i = 0; i < 5; i++) {
      order.add(hanging.awaitArrival(1000));
    }
    assertEquals(
        List.of("/quick?n=0", "/quick?n=1", "/quick?n=2", "/quick?n=3", "/quick?n=4"), order);
  }

  @Test
  void shouldNeverServeAWaitingClientThatLeft() throws Exception {
    drainArrivals();
    RawHttp busy = RawHttp.connect(hangHub.address().getPort());
    busy.send("GET", "/hang-busy");
    assertEquals("/hang-busy", hanging.awaitArrival(5000));

    RawHttp waiting = RawHttp.connect(hangHub.address().getPort());
    waiting.send("GET", "/hang-queued", "Slime-Block: 1");
    Slime.sleep(300);
    waiting.close();
    Slime.sleep(300);
    busy.close();
    assertEquals("/hang-busy", hanging.awaitAbort(2000));

    HttpResponse<String> next = Client.get(Slime.url(hangHub, "/quick"), "Slime-Block", "1");
    assertEquals(200, next.statusCode(), next.body());
    Slime.sleep(300);
    assertFalse(
        hanging.targets().contains("/hang-queued"),
        "the upstream served a client that had left: " + hanging.targets());
    // Not blocking: the worker must be idle, not carrying the departed request.
    assertEquals(200, Client.get(Slime.url(hangHub, "/quick")).statusCode());
  }

  @Test
  void shouldCutTheResponseWhenTheUpstreamDiesMidBodyAndKeepTheWorker() throws Exception {
    drainArrivals();
    try (RawHttp app = RawHttp.connect(hangHub.address().getPort())) {
      app.send("GET", "/crash");
      long start = System.nanoTime();
      // Either the head comes and the body is cut, or the connection is reset before the head
      // could be flushed; never a response that looks whole.
      RawHttp.Response head = null;
      StringBuilder rest = new StringBuilder();
      try {
        head = app.readHead();
        for (String line; (line = app.readLine()) != null; ) {
          rest.append(line).append('\n');
        }
      } catch (java.io.IOException reset) {
        // A reset ends it as well.
      }
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertTrue(ms < 2000, "the cut response ended only after " + ms + " ms");
      if (head != null) {
        assertEquals(200, head.status());
        String declared = head.header("Content-Length");
        if (declared != null) {
          assertEquals("100000", declared);
          assertTrue(rest.length() < 100_000, "a cut body came out whole");
        } else {
          assertFalse(rest.toString().contains("\n0\n"), "a cut body was terminated as if whole");
        }
      }
    }
    // The worker frees as the hub handles the agent's failure, which may be just after the cut
    // reached the application: wait for it briefly rather than race it.
    HttpResponse<String> next =
        Client.get(Slime.url(hangHub, "/quick"), "Slime-Block", "1", "Slime-Block-Timeout", "5s");
    assertEquals(200, next.statusCode(), "the worker did not stay: " + next.body());
  }

  @Test
  void shouldServeOnceAnUnreachableUpstreamComesUp() throws Exception {
    int port = Slime.freePort();
    try (Hub hub = Slime.hub();
        Agents agents =
            Slime.agent(hub, Slime.token("patient"), "127.0.0.1:" + port, 1, "patient")) {
      assertEquals(List.of("patient"), agents.agentIds());
      HttpResponse<String> down = Client.get(Slime.url(hub, "/echo"), "Slime-Block", "1");
      assertEquals(502, down.statusCode(), down.body());
      com.sun.net.httpserver.HttpServer server =
          com.sun.net.httpserver.HttpServer.create(
              new java.net.InetSocketAddress("127.0.0.1", port), 16);
      server.createContext(
          "/",
          ex -> {
            ex.sendResponseHeaders(200, 3);
            ex.getResponseBody().write("up\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            ex.close();
          });
      server.start();
      try {
        HttpResponse<String> up = Client.get(Slime.url(hub, "/echo"));
        assertEquals(200, up.statusCode(), up.body());
        assertEquals("up\n", up.body());
      } finally {
        server.stop(0);
      }
    }
  }

  @Test
  void shouldReleaseTheConcurrentSlotsOfApplicationsThatLeft() throws Exception {
    try (TestUpstream upstream = TestUpstream.start();
        Hub hub = Slime.hub(Map.of("concurrent", 2, "queue.max-wait", "3s"));
        Agents agents = Slime.agent(hub, Slime.token("slots"), upstream.address(), 1, "slots")) {
      assertEquals(List.of("slots"), agents.agentIds());
      Slime.awaitWorkers(hub, 1, "/echo");
      int port = hub.address().getPort();

      // Left while being served.
      try (RawHttp served = RawHttp.connect(port)) {
        served.send("GET", "/slow?ms=1000");
        Slime.awaitValue(upstream::inFlight, 1, 5000);
        Slime.sleep(200);
      }
      // The upstream's handler sleeps on even though its connection is gone.
      Slime.awaitValue(upstream::inFlight, 0, 5000);

      // Left while waiting for the (busy) worker, holding a --concurrent slot.
      CompletableFuture<HttpResponse<String>> busy =
          Client.getAsync(Slime.url(hub, "/slow?ms=1000"), "Slime-Block", "1");
      Slime.awaitValue(upstream::inFlight, 1, 5000);
      try (RawHttp waiting = RawHttp.connect(port)) {
        waiting.send("GET", "/echo/left", "Slime-Block: 1");
        Slime.sleep(300);
      }
      HttpResponse<String> busyDone = busy.join();
      assertEquals(200, busyDone.statusCode(), busyDone.body());

      // Both slots must be free again: one request holds the worker, the next is admitted and
      // told at once that no worker is idle (a leaked slot would make it wait at the gate).
      CompletableFuture<HttpResponse<String>> holder =
          Client.getAsync(Slime.url(hub, "/slow?ms=1000"));
      Slime.awaitValue(upstream::inFlight, 1, 5000);
      long start = System.nanoTime();
      HttpResponse<String> probe = Client.get(Slime.url(hub, "/echo/probe"));
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertEquals(
          "no-idle-worker",
          Client.header(probe, "Slime-Error"),
          probe.statusCode() + " after " + ms + " ms: " + probe.body());
      assertTrue(ms < 500, "the probe waited " + ms + " ms for a --concurrent slot");
      assertEquals(200, holder.join().statusCode());
    }
  }

  @Test
  void shouldAnswer502WhenTheAgentFreezesWithoutClosingItsConnection() throws Exception {
    // A frozen process (or a network partition) closes nothing: only missing heartbeats tell.
    try (TestUpstream upstream = TestUpstream.start();
        Hub hub = Slime.hub()) {
      Path log = Files.createTempFile("slime-agent-", ".log");
      // The agent sets the heartbeat pace for its connection; both sides then use it.
      Process agent =
          startAgentProcess(hub, upstream, "frozen", log, "-Dslime.agent.keep-alive=500ms");
      try {
        HttpResponse<String> ready = Client.get(Slime.url(hub, "/echo"), "Slime-Block", "1");
        assertEquals(
            200, ready.statusCode(), ready.body() + "\nagent log:\n" + Files.readString(log));

        CompletableFuture<HttpResponse<String>> slow =
            Client.getAsync(Slime.url(hub, "/slow?ms=20000"));
        Slime.awaitValue(upstream::inFlight, 1, 5000);
        new ProcessBuilder("kill", "-STOP", Long.toString(agent.pid())).start().waitFor();
        long frozenAt = System.nanoTime();

        HttpResponse<String> lost = slow.get(15, TimeUnit.SECONDS);
        long ms = (System.nanoTime() - frozenAt) / 1_000_000;
        assertEquals(502, lost.statusCode(), lost.body());
        assertEquals("agent-lost", Client.header(lost, "Slime-Error"));
        // Three missed heartbeats of 500 ms; without heartbeats TCP would wait many minutes.
        assertTrue(ms < 5_000, "the 502 came " + ms + " ms after the agent froze");
      } finally {
        agent.destroyForcibly();
        agent.waitFor(10, TimeUnit.SECONDS);
        Files.deleteIfExists(log);
      }
    }
  }

  @Test
  void shouldAnswer502SoonWhenTheAgentProcessDies() throws Exception {
    try (TestUpstream upstream = TestUpstream.start();
        Hub hub = Slime.hub()) {
      Path log = Files.createTempFile("slime-agent-", ".log");
      Process agent = startAgentProcess(hub, upstream, "doomed", log);
      try {
        HttpResponse<String> ready = Client.get(Slime.url(hub, "/echo"), "Slime-Block", "1");
        assertEquals(
            200, ready.statusCode(), ready.body() + "\nagent log:\n" + Files.readString(log));
        assertEquals("doomed", Client.header(ready, "Slime-Agent"));

        CompletableFuture<HttpResponse<String>> slow =
            Client.getAsync(Slime.url(hub, "/slow?ms=10000"));
        Slime.awaitValue(upstream::inFlight, 1, 5000);
        Slime.sleep(500);
        agent.destroyForcibly();
        long killedAt = System.nanoTime();

        HttpResponse<String> lost = slow.get(10, TimeUnit.SECONDS);
        long ms = (System.nanoTime() - killedAt) / 1_000_000;
        assertEquals(502, lost.statusCode(), lost.body());
        assertEquals("agent-lost", Client.header(lost, "Slime-Error"));
        assertTrue(ms < 2000, "the 502 came " + ms + " ms after the kill");
      } finally {
        agent.destroyForcibly();
        agent.waitFor(10, TimeUnit.SECONDS);
        Files.deleteIfExists(log);
      }
    }
  }

  @Test
  void shouldServeAgainOnceAgentsReconnectToARestartedHub() {
    int port = Slime.freePort();
    try (TestUpstream upstream = TestUpstream.start()) {
      Hub first = Slime.hubOnPort(port, Map.of());
      Hub second = null;
      Agents agents =
          Slime.agent(
              "127.0.0.1:" + port, Slime.token("faithful"), upstream.address(), 1, "faithful");
      try {
        HttpResponse<String> before =
            Client.get("http://127.0.0.1:" + port + "/echo", "Slime-Block", "1");
        assertEquals(200, before.statusCode(), before.body());
        first.close();
        Slime.sleep(500);

        second = startOnPort(port);
        long start = System.nanoTime();
        HttpResponse<String> after =
            Client.get("http://127.0.0.1:" + port + "/echo", "Slime-Block", "1");
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertEquals(200, after.statusCode(), after.body());
        assertEquals("faithful", Client.header(after, "Slime-Agent"));
        assertTrue(ms < 10_000, "the agent came back after " + ms + " ms");
      } finally {
        Slime.closeAll(agents, first, second);
      }
    }
  }

  @Test
  void shouldReplaceAWorkerThatReconnectsWithTheSameId() throws Exception {
    String token = Slime.token("twin");
    try (TestUpstream upstream = TestUpstream.start();
        Hub hub = Slime.hub();
        Agents agents = Slime.agent(hub, token, upstream.address(), 1, "twin")) {
      assertEquals(List.of("twin"), agents.agentIds());
      Slime.awaitWorkers(hub, 1, "/echo");

      // A second connection of the same token for the same slot replaces the agent's; the agent
      // reconnects and in turn replaces it: the hub closes the stale one each time.
      CompletableFuture<String> impostorClosed = new CompletableFuture<>();
      WebSocket impostor =
          Client.HTTP
              .newWebSocketBuilder()
              .header("Slime-Agent-Token", token)
              .header("Slime-Agent-Id", "twin")
              .header("Slime-Worker-Index", "0")
              .buildAsync(
                  URI.create("ws://" + Slime.hubAddress(hub) + "/_slime/connect"),
                  new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
                      impostorClosed.complete("closed " + code);
                      return null;
                    }

                    @Override
                    public void onError(WebSocket ws, Throwable error) {
                      impostorClosed.complete("failed " + error);
                    }
                  })
              .get(5, TimeUnit.SECONDS);
      try {
        impostorClosed.get(5, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        fail("the agent reconnected to its slot, but the hub kept the stale connection open");
      } finally {
        impostor.abort();
      }

      // One worker in the slot: while it is busy, nobody else answers.
      CompletableFuture<HttpResponse<String>> slow =
          Client.getAsync(Slime.url(hub, "/slow?ms=1000"), "Slime-Block", "1");
      Slime.awaitValue(upstream::inFlight, 1, 5000);
      HttpResponse<String> refused = Client.get(Slime.url(hub, "/echo"));
      assertEquals(503, refused.statusCode(), refused.body());
      assertEquals("no-idle-worker", Client.header(refused, "Slime-Error"));
      HttpResponse<String> served = slow.join();
      assertEquals(200, served.statusCode(), served.body());
      assertEquals("twin", Client.header(served, "Slime-Agent"));
    }
  }

  @Test
  void shouldCutTheResponseWhenTheAgentProcessDiesMidStream() throws Exception {
    try (TestUpstream upstream = TestUpstream.start();
        Hub hub = Slime.hub()) {
      Path log = Files.createTempFile("slime-agent-", ".log");
      Process agent = startAgentProcess(hub, upstream, "doomed-stream", log);
      try {
        HttpResponse<String> ready = Client.get(Slime.url(hub, "/echo"), "Slime-Block", "1");
        assertEquals(
            200, ready.statusCode(), ready.body() + "\nagent log:\n" + Files.readString(log));

        try (RawHttp app = RawHttp.connect(hub.address().getPort())) {
          app.send("GET", "/events?count=100&intervalMs=100");
          RawHttp.Response head = app.readHead();
          assertEquals(200, head.status());
          assertEquals("chunked", head.header("Transfer-Encoding"));
          int events = 0;
          while (events < 3) {
            String line = app.readLine();
            if (line != null && line.startsWith("data: ")) {
              events++;
            }
          }
          agent.destroyForcibly();
          long killedAt = System.nanoTime();

          // The response must end, and not look complete: no last chunk.
          boolean lastChunk = false;
          try {
            for (String line; (line = app.readLine()) != null; ) {
              if (line.equals("0")) {
                lastChunk = true;
              }
            }
          } catch (java.io.IOException reset) {
            // A reset ends it as well.
          }
          long ms = (System.nanoTime() - killedAt) / 1_000_000;
          assertFalse(lastChunk, "a cut response was terminated as if complete");
          assertTrue(ms < 2000, "the response ended " + ms + " ms after the kill");
        }
      } finally {
        agent.destroyForcibly();
        agent.waitFor(10, TimeUnit.SECONDS);
        Files.deleteIfExists(log);
      }
    }
  }

  /** {@code slime agent run} in its own JVM, so it can be killed like a real process. */
  private static Process startAgentProcess(
      Hub hub, TestUpstream upstream, String name, Path log, String... jvmOptions)
      throws java.io.IOException {
    List<String> options = new java.util.ArrayList<>(List.of("-XX:TieredStopAtLevel=1"));
    options.addAll(List.of(jvmOptions));
    return Slime.startProcess(
        options,
        log,
        "agent",
        "run",
        "--token",
        Slime.token(name),
        "--hub",
        Slime.hubAddress(hub),
        "--upstream",
        upstream.address(),
        "--numWorker",
        "1",
        "--agentID",
        name);
  }

  /** Binds again where the previous hub was; the port may take a moment to be free. */
  private static Hub startOnPort(int port) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      try {
        return Slime.hubOnPort(port, Map.of());
      } catch (IllegalStateException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Slime.sleep(200);
      }
    }
  }

  private static void drainArrivals() throws InterruptedException {
    while (hanging.awaitArrival(0) != null) {
      // Earlier tests' requests.
    }
    while (hanging.awaitAbort(0) != null) {
      // Earlier tests' aborts.
    }
  }
}
