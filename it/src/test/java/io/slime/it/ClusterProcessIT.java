package io.slime.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.slime.agent.Agents;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three hub processes in one cluster behind HAProxy, which balances applications and agent
 * WebSockets alike; the first seed is killed with SIGKILL and restarted, then another node is
 * killed under load.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterProcessIT {
  private static final int NODES = 3;

  @TempDir static Path dir;

  private static final List<Process> hubs = new ArrayList<>();
  private static Process balancer;
  private static TestUpstream upstream;
  private static final List<Agents> agents = new ArrayList<>();
  private static int balancerPort;
  private static final int[] httpPorts = new int[NODES];
  private static final int[] clusterPorts = new int[NODES];

  /**
   * One finished application request: when it ended, its status (0: no answer) and who answered it
   * when it was not the upstream: a Slime-Error code, or "balancer" when no hub did.
   */
  private record Outcome(long endedNanos, int status, String answeredBy) {
    String kind() {
      return answeredBy == null ? Integer.toString(status) : status + " " + answeredBy;
    }
  }

  @BeforeAll
  static void start() throws Exception {
    for (int i = 0; i < NODES; i++) {
      httpPorts[i] = Slime.freePort();
      clusterPorts[i] = Slime.freePort();
    }
    for (int i = 0; i < NODES; i++) {
      hubs.add(startHub(i));
    }
    balancerPort = Slime.freePort();
    balancer = startBalancer(httpPorts);
    upstream = TestUpstream.start();
    String viaBalancer = "127.0.0.1:" + balancerPort;
    for (int i = 0; i < 2; i++) {
      agents.add(
          Slime.agent(viaBalancer, Slime.token("gpu" + i), upstream.address(), 3, "gpu" + i));
    }
    awaitServed(NODES * 2);
  }

  @AfterAll
  static void stop() {
    agents.forEach(Agents::close);
    if (upstream != null) {
      upstream.close();
    }
    if (balancer != null) {
      balancer.destroyForcibly();
    }
    hubs.forEach(Process::destroyForcibly);
  }

  @Test
  @Order(1)
  void shouldLetAFirstSeedRestartedAfterSigkillRejoinTheLiveCluster() throws Exception {
    hubs.get(0).destroyForcibly(); // SIGKILL
    assertTrue(hubs.get(0).waitFor(5, TimeUnit.SECONDS), "node 0 is dead");
    hubs.set(0, startHub(0));

    // Alone, it would have formed a cluster of its own and seen 1 node, the others 2.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    List<String> seen = List.of();
    while (System.nanoTime() < deadline) {
      seen = new ArrayList<>();
      for (int port : httpPorts) {
        seen.add(nodesSeenBy(port));
      }
      if (seen.stream().allMatch(n -> n.equals("3"))) {
        break;
      }
      Thread.sleep(200);
    }
    if (!seen.equals(List.of("3", "3", "3"))) {
      printLogTails();
    }
    assertEquals(List.of("3", "3", "3"), seen, "nodes each node sees; logs in " + dir);
    awaitServed(NODES * 2);
  }

  @Test
  @Order(2)
  void shouldHangNothingAndRecoverThroughputWhenANodeIsKilledUnderLoad() throws Exception {
    ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
    long start = System.nanoTime();
    long killAt = start + TimeUnit.SECONDS.toNanos(6);
    long end = killAt + TimeUnit.SECONDS.toNanos(20);
    ExecutorService clients = Executors.newFixedThreadPool(8);
    for (int c = 0; c < 8; c++) {
      clients.submit(
          () -> {
            while (System.nanoTime() < end) {
              Outcome outcome;
              try {
                HttpResponse<String> r = Client.get(url("/slow?ms=50"), "Slime-Block", "1");
                String slimeError = Client.header(r, "Slime-Error");
                String by =
                    r.statusCode() == 200 ? null : slimeError == null ? "balancer" : slimeError;
                outcome = new Outcome(System.nanoTime(), r.statusCode(), by);
              } catch (IllegalStateException e) {
                // The connection broke: the balancer's node died under it.
                outcome = new Outcome(System.nanoTime(), 0, null);
              }
              outcomes.add(outcome);
            }
          });
    }
    Thread.sleep(TimeUnit.NANOSECONDS.toMillis(killAt - System.nanoTime()));
    hubs.get(1).destroyForcibly(); // SIGKILL
    assertTrue(hubs.get(1).waitFor(5, TimeUnit.SECONDS), "node 1 is dead");
    clients.shutdown();
    assertTrue(
        clients.awaitTermination(Client.TIMEOUT.toSeconds() + 30, TimeUnit.SECONDS),
        "every request ended (each has a 30 s client timeout, so a hang shows as a timeout)");

    Map<String, Integer> statuses = new TreeMap<>();
    int before = 0;
    int lastFive = 0;
    int lastFiveOk = 0;
    for (Outcome o : outcomes) {
      statuses.merge(o.kind(), 1, Integer::sum);
      if (o.endedNanos() < killAt) {
        before++;
      } else if (o.endedNanos() > end - TimeUnit.SECONDS.toNanos(5)) {
        lastFive++;
        lastFiveOk += o.status() == 200 ? 1 : 0;
      }
    }
    String summary =
        "statuses "
            + statuses
            + ", before the kill "
            + before
            + " in 6 s, last 5 s "
            + lastFiveOk
            + "/"
            + lastFive;
    System.out.println("ClusterProcessIT: " + summary);
    if (lastFive != lastFiveOk) {
      printLogTails();
    }
    for (Outcome o : outcomes) {
      assertTrue(o.status() == 200 || o.status() == 502 || o.status() == 0, summary);
    }
    assertEquals(
        lastFive, lastFiveOk, "recovered: all requests of the last 5 s served; " + summary);
    double rateBefore = before / 6.0;
    double rateAfter = lastFive / 5.0;
    assertTrue(rateAfter >= 0.5 * rateBefore, "throughput recovered; " + summary);
  }

  /** The end of each process's log, for CI, where the temporary directory is gone afterwards. */
  private static void printLogTails() throws IOException {
    try (var files = Files.list(dir)) {
      for (Path log : files.filter(f -> f.toString().endsWith(".log")).sorted().toList()) {
        List<String> lines = Files.readAllLines(log);
        System.out.println("---- last lines of " + log.getFileName());
        lines.subList(Math.max(0, lines.size() - 60), lines.size()).forEach(System.out::println);
      }
    }
  }

  /** The "nodes" count in a node's status, or why there is none. */
  private static String nodesSeenBy(int httpPort) {
    try {
      HttpResponse<String> r = Client.get("http://127.0.0.1:" + httpPort + "/_slime/status");
      var matcher = java.util.regex.Pattern.compile("\"nodes\":(\\d+)").matcher(r.body());
      return matcher.find() ? matcher.group(1) : "status " + r.statusCode();
    } catch (IllegalStateException e) {
      return "down (" + e.getCause() + ")";
    }
  }

  /** Node {@code i}, with every node as a seed, as README's cluster example runs them. */
  private static Process startHub(int i) throws IOException {
    List<String> seeds = new ArrayList<>();
    for (int port : clusterPorts) {
      seeds.add("127.0.0.1:" + port);
    }
    return Slime.startProcess(
        List.of(),
        dir.resolve("hub-" + i + "-" + System.nanoTime() + ".log"),
        "hub",
        "run",
        "--secret",
        Slime.SECRET,
        "--host",
        "127.0.0.1",
        "--port",
        Integer.toString(httpPorts[i]),
        "--clusterHost",
        "127.0.0.1",
        "--clusterPort",
        Integer.toString(clusterPorts[i]),
        "--seed",
        String.join(",", seeds));
  }

  private static Process startBalancer(int[] httpPorts) throws IOException {
    StringBuilder config =
        new StringBuilder(
            String.join(
                "\n",
                "defaults",
                "  mode http",
                "  timeout connect 1s",
                "  timeout client 60s",
                "  timeout server 60s",
                "  timeout tunnel 1h",
                "frontend slime",
                "  bind 127.0.0.1:" + balancerPort,
                "  default_backend hubs",
                "backend hubs",
                "  balance roundrobin",
                "  retries 2",
                "  option redispatch",
                ""));
    for (int i = 0; i < httpPorts.length; i++) {
      config
          .append("  server hub")
          .append(i)
          .append(" 127.0.0.1:")
          .append(httpPorts[i])
          .append(" check inter 500ms fall 2 rise 2\n");
    }
    Path file = dir.resolve("haproxy.cfg");
    Files.writeString(file, config.toString());
    return new ProcessBuilder("haproxy", "-f", file.toString())
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("haproxy.log").toFile())
        .start();
  }

  /** Waits until {@code times} requests in a row through the balancer find an idle worker. */
  private static void awaitServed(int times) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    int inARow = 0;
    while (System.nanoTime() < deadline) {
      try {
        HttpResponse<String> r = Client.get(url("/echo"));
        inARow = r.statusCode() == 200 ? inARow + 1 : 0;
        if (inARow == times) {
          return;
        }
      } catch (IllegalStateException e) {
        inARow = 0; // the balancer or a node is still starting
      }
      Thread.sleep(100);
    }
    fail("the cluster behind the balancer did not serve; logs in " + dir);
  }

  private static String url(String target) {
    return "http://127.0.0.1:" + balancerPort + target;
  }
}
