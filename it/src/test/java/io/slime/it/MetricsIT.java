package io.slime.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slime.agent.Agents;
import io.slime.hub.Hub;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /_slime/metrics} counts exactly what a test sent, and Prometheus's own {@code promtool
 * check metrics} accepts what it writes.
 */
class MetricsIT {
  private static final Pattern SAMPLE =
      Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\\{[^}]*\\})?) (\\S+)$");
  private static final String AGENT_ID = "metrics-agent";

  private static TestUpstream upstream;
  private static Hub hub;
  private static Agents agents;

  @BeforeAll
  static void start() {
    upstream = TestUpstream.start();
    hub = Slime.hub();
    agents = Slime.agent(hub, Slime.token("metrics"), upstream.address(), 2, AGENT_ID);
    Slime.awaitWorkers(hub, 2, "/echo");
  }

  @AfterAll
  static void stop() {
    Slime.closeAll(agents, hub, upstream);
  }

  @Test
  void shouldCountExactlyWhatWasSent() {
    Map<String, Double> before = samples(scrape().body());
    for (int i = 0; i < 5; i++) {
      assertEquals(200, Client.get(Slime.url(hub, "/echo/m" + i)).statusCode());
    }
    byte[] body = new byte[1000];
    HttpResponse<String> posted =
        Client.send(
            Client.request(Slime.url(hub, "/echo/upload"))
                .POST(BodyPublishers.ofByteArray(body))
                .build());
    assertEquals(200, posted.statusCode());
    HttpResponse<String> refused =
        Client.get(Slime.url(hub, "/echo/x"), "Slime-Select", "gpu=none");
    assertEquals(503, refused.statusCode());

    Map<String, Double> after = samples(scrape().body());
    String agent = "agent=\"metrics\",agent_id=\"" + AGENT_ID + "\"";
    assertEquals(6, delta(before, after, "slime_requests_total{status_class=\"2xx\"}"));
    assertEquals(1, delta(before, after, "slime_requests_total{status_class=\"5xx\"}"));
    assertEquals(1, delta(before, after, "slime_errors_total{code=\"no-matching-worker\"}"));
    assertEquals(
        6, delta(before, after, "slime_agent_requests_total{" + agent + ",status_class=\"2xx\"}"));
    assertEquals(1000, delta(before, after, "slime_request_body_bytes_total"));
    assertEquals(1000, delta(before, after, "slime_agent_request_body_bytes_total{" + agent + "}"));
    assertEquals(7, delta(before, after, "slime_response_head_seconds_count"));
    assertEquals(7, delta(before, after, "slime_response_head_seconds_bucket{le=\"+Inf\"}"));
    assertTrue(delta(before, after, "slime_response_head_seconds_sum") > 0);
    assertEquals(2, after.get("slime_workers{state=\"idle\"}"));
    assertEquals(0, after.get("slime_workers{state=\"busy\"}"));
    assertEquals(0, after.get("slime_workers{state=\"ejected\"}"));
    assertEquals(1, after.get("slime_agents"));
    assertEquals(0, after.get("slime_requests_waiting"));
    assertEquals(1, after.get("slime_cluster_members{status=\"up\"}"));
    assertTrue(
        after.entrySet().stream()
            .anyMatch(
                e ->
                    e.getKey().startsWith("slime_agent_info{" + agent + ",version=")
                        && e.getValue() == 1),
        "slime_agent_info");
    assertTrue(after.containsKey("jvm_memory_used_bytes{area=\"heap\"}"), "JVM metrics");
    assertTrue(after.containsKey("process_cpu_seconds_total"), "process metrics");
  }

  @Test
  void shouldWriteWhatPromtoolAccepts(@TempDir Path dir) throws Exception {
    HttpResponse<String> r = scrape();
    assertTrue(
        Client.header(r, "Content-Type").startsWith("text/plain; version=0.0.4"),
        Client.header(r, "Content-Type"));
    Path file = dir.resolve("metrics.txt");
    Files.writeString(file, r.body());
    Process check =
        new ProcessBuilder("promtool", "check", "metrics")
            .redirectInput(file.toFile())
            .redirectErrorStream(true)
            .start();
    assertTrue(check.waitFor(30, TimeUnit.SECONDS));
    String said = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, check.exitValue(), said);
    assertEquals("", said.trim(), "promtool has no complaint");
  }

  @Test
  void shouldAskForTheAdminTokenWhenConfiguredTo() {
    Hub guarded = Slime.hub(Map.of("admin-token", "metrics-admin", "metrics-requires-token", "on"));
    try {
      HttpResponse<String> anonymous = Client.get(Slime.url(guarded, "/_slime/metrics"));
      assertEquals(401, anonymous.statusCode());
      assertEquals("unauthorized", Client.header(anonymous, "Slime-Error"));
      HttpResponse<String> wrong =
          Client.get(Slime.url(guarded, "/_slime/metrics"), "Authorization", "Bearer nope");
      assertEquals(401, wrong.statusCode());
      HttpResponse<String> admin =
          Client.get(
              Slime.url(guarded, "/_slime/metrics"), "Authorization", "Bearer metrics-admin");
      assertEquals(200, admin.statusCode());
      assertTrue(admin.body().contains("slime_workers{state=\"idle\"} 0.0"), admin.body());
    } finally {
      Slime.closeAll(guarded);
    }
  }

  @Test
  void shouldShipPrometheusExamplesThatPromtoolAccepts() throws Exception {
    Path examples = Path.of("..", "config", "prometheus");
    assertEquals("", promtool("check", "config", examples.resolve("prometheus.yml").toString()));
    assertEquals("", promtool("check", "rules", examples.resolve("slime-rules.yml").toString()));
  }

  /**
   * Runs promtool; returns its complaints (empty when it succeeded), failing on a non-zero exit.
   */
  private static String promtool(String... args) throws Exception {
    java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("promtool"));
    command.addAll(java.util.List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), said);
    return said.lines()
        .filter(l -> l.contains("WARN") || l.contains("FAIL"))
        .reduce("", String::concat);
  }

  private static HttpResponse<String> scrape() {
    HttpResponse<String> r = Client.get(Slime.url(hub, "/_slime/metrics"));
    assertEquals(200, r.statusCode(), r.body());
    return r;
  }

  private static double delta(Map<String, Double> before, Map<String, Double> after, String key) {
    assertTrue(after.containsKey(key), key + " in " + after.keySet());
    return after.get(key) - before.getOrDefault(key, 0.0);
  }

  private static Map<String, Double> samples(String text) {
    Map<String, Double> out = new HashMap<>();
    for (String line : text.split("\n")) {
      Matcher m = SAMPLE.matcher(line);
      if (!line.startsWith("#") && m.matches()) {
        out.put(m.group(1), Double.parseDouble(m.group(2)));
      }
    }
    return out;
  }
}
