package io.slime.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * `slime demo`, the quickstart's first command, run as a real process and used as a new user would.
 */
class DemoIT {
  private static final Pattern HUB_LINE = Pattern.compile("hub on (http://[0-9.]+:\\d+)");

  @Test
  void shouldServeTheDemoCurlLines() throws Exception {
    Process demo =
        new ProcessBuilder(
                List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m",
                    "-cp",
                    System.getProperty("java.class.path"),
                    "io.slime.cli.SlimeCommand",
                    "demo",
                    "--port",
                    "0"))
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    try {
      String base = readHubAddress(demo);
      assertNotNull(base, "the demo never printed its hub address");
      HttpClient client = HttpClient.newHttpClient();

      HttpResponse<String> echo =
          client.send(
              HttpRequest.newBuilder(URI.create(base + "/echo?hello=world"))
                  .header("Slime-Block", "1")
                  .timeout(Duration.ofSeconds(20))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(200, echo.statusCode(), echo.body());
      assertTrue(echo.body().contains("hello=world"), echo.body());
      assertTrue(
          echo.headers().firstValue("Slime-Agent").orElse("").startsWith("demo-agent-"),
          echo.headers().map().toString());

      HttpResponse<String> events =
          client.send(
              HttpRequest.newBuilder(URI.create(base + "/events?count=3&intervalMs=50"))
                  .header("Slime-Block", "1")
                  .timeout(Duration.ofSeconds(20))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(200, events.statusCode());
      assertTrue(events.body().contains("data: event 2"), events.body());
    } finally {
      demo.destroy();
      demo.waitFor(10, TimeUnit.SECONDS);
      demo.destroyForcibly();
    }
  }

  private static String readHubAddress(Process process) throws Exception {
    BufferedReader out =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    String line;
    while (System.nanoTime() < deadline && (line = out.readLine()) != null) {
      Matcher m = HUB_LINE.matcher(line);
      if (m.find()) {
        return m.group(1);
      }
    }
    return null;
  }
}
