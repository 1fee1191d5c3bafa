package io.slime.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hub or agent process that may open few descriptors ({@code ulimit -n 256}) sizes itself to fit:
 * the hub refuses connections past its limit with 503 too-many-connections instead of failing every
 * accept in a tight loop, and an agent refuses to start more workers than it can connect (issue 10,
 * point 2).
 */
class DescriptorLimitIT {
  private static final int DESCRIPTORS = 256;
  private static final Pattern LIMIT = Pattern.compile("at most (\\d+) connections");

  @TempDir Path dir;

  @Test
  void shouldRefuseConnectionsPastItsLimitWithoutFloodingTheLog() throws Exception {
    int port = Slime.freePort();
    Path log = dir.resolve("hub.log");
    Process hub =
        Slime.startProcessWithDescriptors(
            DESCRIPTORS,
            List.of(),
            log,
            "hub",
            "run",
            "--host",
            "127.0.0.1",
            "--port",
            Integer.toString(port),
            "--secret",
            Slime.SECRET);
    List<Socket> sockets = new ArrayList<>();
    try {
      String started = awaitLine(log, "Hub started", hub);
      InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
      try {
        for (int i = 0; i < DESCRIPTORS + 50; i++) {
          Socket socket = new Socket();
          sockets.add(socket);
          socket.connect(address, 2000);
        }
      } catch (SocketTimeoutException e) {
        // The hub stopped accepting and its backlog is full: the checks below say why.
      }

      // Out of descriptors, every accept would fail at once, logged each time at full speed.
      Duration before = cpu(hub);
      Thread.sleep(2000);
      Duration used = cpu(hub).minus(before);
      List<String> lines = Files.readAllLines(log);
      long acceptErrors = lines.stream().filter(l -> l.contains("Accept error")).count();
      assertEquals(0, acceptErrors, "accept failed, logged " + acceptErrors + " times in 2 s");
      assertTrue(lines.size() < 100, lines.size() + " log lines");
      assertTrue(used.toMillis() < 1000, "the hub spun: " + used.toMillis() + " ms of CPU in 2 s");
      assertTrue(
          awaitRefusal(sockets), "no connection past the limit got 503 too-many-connections");

      for (Socket socket : sockets) {
        socket.close();
      }
      assertServing(port);

      assertTrue(started.contains("descriptor limit " + DESCRIPTORS), started);
      Matcher limit = LIMIT.matcher(started);
      assertTrue(limit.find(), started);
      assertTrue(Integer.parseInt(limit.group(1)) < DESCRIPTORS, started);
    } finally {
      for (Socket socket : sockets) {
        socket.close();
      }
      hub.destroy();
      hub.waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void shouldRefuseToStartAgentWorkersTheLimitCannotHold() throws Exception {
    Path log = dir.resolve("agent.log");
    Process agent =
        Slime.startProcessWithDescriptors(
            DESCRIPTORS,
            List.of(),
            log,
            "agent",
            "run",
            "--token",
            Slime.token("too-many"),
            "--hub",
            "127.0.0.1:" + Slime.freePort(),
            "--upstream",
            "127.0.0.1:" + Slime.freePort(),
            "--agentID",
            "too-many",
            "--numWorker",
            "500");
    try {
      assertTrue(agent.waitFor(60, TimeUnit.SECONDS), "the agent started 500 workers");
      assertTrue(agent.exitValue() != 0);
      String output = Files.readString(log);
      assertTrue(output.contains("ulimit -n"), output);
    } finally {
      agent.destroyForcibly();
    }
  }

  /** Whether a connection gets the hub's 503 too-many-connections within 10 s. */
  private static boolean awaitRefusal(List<Socket> sockets) throws IOException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      for (Socket socket : sockets) {
        if (!socket.isConnected()) {
          continue;
        }
        InputStream in = socket.getInputStream();
        if (in.available() > 0) {
          String answer = new String(in.readNBytes(in.available()), StandardCharsets.US_ASCII);
          if (answer.startsWith("HTTP/1.1 503")
              && answer.contains("Slime-Error: too-many-connections")) {
            return true;
          }
        }
      }
      Slime.sleep(100);
    }
    return false;
  }

  /** A request gets the hub's own answer (no agent is connected) once connections are free. */
  private static void assertServing(int port) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      try {
        HttpResponse<String> r = Client.get("http://127.0.0.1:" + port + "/after");
        assertEquals("no-agent", Client.header(r, "Slime-Error"), r.body());
        return;
      } catch (IllegalStateException | AssertionError e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Slime.sleep(200);
      }
    }
  }

  private static Duration cpu(Process process) {
    return process.toHandle().info().totalCpuDuration().orElseThrow();
  }

  private static String awaitLine(Path log, String text, Process process) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (Files.exists(log)) {
        for (String line : Files.readAllLines(log)) {
          if (line.contains(text)) {
            return line;
          }
        }
      }
      if (!process.isAlive()) {
        fail("the process ended: " + Files.readString(log));
      }
      Slime.sleep(100);
    }
    return fail("no '" + text + "' in " + Files.readString(log));
  }
}
