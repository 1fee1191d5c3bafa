package io.slime.it;

import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.slime.agent.Agents;
import io.slime.hub.Hub;
import io.slime.shared.agent.AgentTerms;
import io.slime.shared.token.AgentToken;
import io.slime.shared.token.TokenCodec;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntSupplier;

/** Starts hubs and agents the way the command line does, on loopback ports. */
final class Slime {
  static final String SECRET = "integration-test-secret";
  private static final TokenCodec TOKENS = TokenCodec.forSecret(SECRET);

  private Slime() {}

  static String token(String name) {
    return token(name, List.of(), List.of());
  }

  static String token(String name, List<String> scopes, List<String> scopePaths) {
    return TOKENS.seal(new AgentToken(id(), name, null, scopes, scopePaths));
  }

  static String token(String name, List<String> scopePaths, AgentTerms terms) {
    return TOKENS.seal(new AgentToken(id(), name, null, List.of(), scopePaths, terms));
  }

  static String token(String secret, String name, Instant expiresAt) {
    return TokenCodec.forSecret(secret)
        .seal(new AgentToken(id(), name, expiresAt, List.of(), List.of()));
  }

  private static long id() {
    return ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
  }

  /** A hub on an ephemeral loopback port; {@code overrides} are slime.hub.* keys without prefix. */
  static Hub hub(Map<String, Object> overrides) {
    return hubOnPort(0, overrides);
  }

  static Hub hub() {
    return hub(Map.of());
  }

  static Hub hubOnPort(int port, Map<String, Object> overrides) {
    Map<String, Object> map = new HashMap<>();
    map.put("slime.hub.host", "127.0.0.1");
    map.put("slime.hub.port", port);
    map.put("slime.hub.secret", SECRET);
    overrides.forEach((k, v) -> map.put("slime.hub." + k, v));
    return Hub.start(config(map));
  }

  /** Agents with a fixed id (so nothing is written under ~/.slime). */
  static Agents agent(Hub hub, String token, String upstream, int numWorker, String agentId) {
    return agent(hubAddress(hub), token, upstream, numWorker, agentId);
  }

  static Agents agent(
      String hubAddress, String token, String upstream, int numWorker, String agentId) {
    return agents(hubAddress, token, List.of(upstream), numWorker, agentId);
  }

  /** One agent per upstream, in one process, as {@code --upstream a,b} starts them. */
  static Agents agents(
      String hubAddress, String token, List<String> upstreams, int numWorker, String agentId) {
    return agents(hubAddress, token, upstreams, numWorker, agentId, Map.of());
  }

  /** An agent with more settings: {@code extra} are slime.agent.* keys without the prefix. */
  static Agents agent(
      Hub hub, String token, String upstream, String agentId, Map<String, Object> extra) {
    return agents(hubAddress(hub), token, List.of(upstream), 1, agentId, extra);
  }

  /** As above, with the hub's address as the agent is given it ({@code https://...}). */
  static Agents agent(
      String hubAddress,
      String token,
      String upstream,
      int numWorker,
      String agentId,
      Map<String, Object> extra) {
    return agents(hubAddress, token, List.of(upstream), numWorker, agentId, extra);
  }

  private static Agents agents(
      String hubAddress,
      String token,
      List<String> upstreams,
      int numWorker,
      String agentId,
      Map<String, Object> extra) {
    Map<String, Object> map = new HashMap<>();
    extra.forEach((k, v) -> map.put("slime.agent." + k, v));
    map.put("slime.agent.token", token);
    map.put("slime.agent.hub", hubAddress);
    map.put("slime.agent.upstreams", upstreams);
    map.put("slime.agent.num-worker", numWorker);
    map.put("slime.agent.agent-id", agentId);
    return Agents.start(config(map));
  }

  static String hubAddress(Hub hub) {
    return "127.0.0.1:" + hub.address().getPort();
  }

  static String url(Hub hub, String target) {
    return "http://" + hubAddress(hub) + target;
  }

  private static Config config(Map<String, Object> map) {
    return ConfigFactory.parseMap(map).withFallback(ConfigFactory.load());
  }

  /**
   * Starts the slime command line ({@code args}) in its own JVM, from the test class path, with its
   * output in {@code log}: a real process, to be killed or frozen like one.
   */
  static Process startProcess(List<String> jvmOptions, Path log, String... args)
      throws IOException {
    return start(javaCommand(jvmOptions, args), log);
  }

  /** As {@link #startProcess}, with {@code environment} added to this process's. */
  static Process startProcessWithEnvironment(
      Map<String, String> environment, List<String> jvmOptions, Path log, String... args)
      throws IOException {
    ProcessBuilder builder =
        new ProcessBuilder(javaCommand(jvmOptions, args))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    builder.environment().putAll(environment);
    return builder.start();
  }

  /**
   * As {@link #startProcess}, in a process that may open at most {@code descriptors} files and
   * sockets ({@code ulimit -n}).
   */
  static Process startProcessWithDescriptors(
      int descriptors, List<String> jvmOptions, Path log, String... args) throws IOException {
    List<String> command =
        new ArrayList<>(
            List.of("bash", "-c", "ulimit -n " + descriptors + " && exec \"$@\"", "bash"));
    command.addAll(javaCommand(jvmOptions, args));
    return start(command, log);
  }

  private static List<String> javaCommand(List<String> jvmOptions, String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
    command.add("io.slime.cli.SlimeCommand");
    command.addAll(List.of(args));
    return command;
  }

  private static Process start(List<String> command, Path log) throws IOException {
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
  }

  /** A loopback port nobody listens on (right now). */
  static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Waits until the hub has at least {@code workers} idle workers: that many parallel requests to
   * {@code target} without Slime-Block all succeed. Returns the responses of the successful round.
   */
  static List<HttpResponse<String>> awaitWorkers(Hub hub, int workers, String target) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    List<Integer> lastStatuses = List.of();
    while (System.nanoTime() < deadline) {
      List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
      for (int i = 0; i < workers; i++) {
        calls.add(Client.getAsync(url(hub, target)));
      }
      List<HttpResponse<String>> responses = calls.stream().map(CompletableFuture::join).toList();
      if (responses.stream().allMatch(r -> r.statusCode() == 200)) {
        return responses;
      }
      lastStatuses = responses.stream().map(HttpResponse::statusCode).toList();
      sleep(100);
    }
    return fail(workers + " workers did not connect within 20 s; last statuses " + lastStatuses);
  }

  /** Polls until {@code value} reads {@code expected}; fails after the timeout. */
  static void awaitValue(IntSupplier value, int expected, long timeoutMs) {
    long deadline = System.nanoTime() + timeoutMs * 1_000_000;
    while (value.getAsInt() != expected) {
      if (System.nanoTime() > deadline) {
        fail("expected " + expected + " within " + timeoutMs + " ms, saw " + value.getAsInt());
      }
      sleep(10);
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static void closeAll(AutoCloseable... resources) {
    for (AutoCloseable r : resources) {
      if (r != null) {
        try {
          r.close();
        } catch (Exception e) {
          // Best effort: one fixture failing to stop must not keep the others running.
        }
      }
    }
  }
}
