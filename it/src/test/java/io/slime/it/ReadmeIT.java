package io.slime.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs README's shell blocks that start hubs and agents, as a new user would paste them: the
 * commands, flags, environment variables and readiness waits as written. Only the ports are moved
 * to free ones (and HAProxy's config with them), and {@code bin/slime} runs the command line from
 * the test class path rather than building the jar.
 */
class ReadmeIT {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Pattern BASH_BLOCK = Pattern.compile("```bash\n(.*?)```", Pattern.DOTALL);

  @TempDir Path dir;
  private final List<Process> shells = new ArrayList<>();
  private TestUpstream upstream;

  @AfterEach
  void stop() {
    for (Process shell : shells) {
      shell.descendants().forEach(ProcessHandle::destroyForcibly);
      shell.destroyForcibly();
    }
    if (upstream != null) {
      upstream.close();
    }
  }

  @Test
  void shouldServeARequestFromTheHandRunBlock() throws Exception {
    String block = block("--name gpu-1)");
    upstream = TestUpstream.start();

    String output = run(block, ports(block, "8080"));

    assertTrue(upstream.servedPaths().contains("/v1/models"), output);
  }

  @Test
  void shouldServeARequestThroughTheBalancerFromTheClusterBlock() throws Exception {
    String block = block("haproxy -f config/cluster/haproxy.cfg");
    upstream = TestUpstream.start();
    Map<String, String> ports =
        ports(block, "8080", "8081", "8082", "8083", "7355", "7356", "7357");
    Path haproxy = dir.resolve("haproxy.cfg");
    Files.writeString(
        haproxy, moved(Files.readString(ROOT.resolve("config/cluster/haproxy.cfg")), ports));
    block = block.replace("config/cluster/haproxy.cfg", haproxy.toString());

    String output = run(block, ports);

    assertTrue(upstream.servedPaths().contains("/"), output);
  }

  /** The one README bash block that contains {@code marker}. */
  private static String block(String marker) throws IOException {
    String readme = Files.readString(ROOT.resolve("README.md"));
    List<String> found = new ArrayList<>();
    Matcher m = BASH_BLOCK.matcher(readme);
    while (m.find()) {
      if (m.group(1).contains(marker)) {
        found.add(m.group(1));
      }
    }
    assertEquals(1, found.size(), "README bash blocks containing " + marker);
    return found.get(0);
  }

  /** A free port for each of README's, and the upstream's real port for README's 9000. */
  private Map<String, String> ports(String block, String... readmePorts) {
    Map<String, String> ports = new LinkedHashMap<>();
    for (String port : readmePorts) {
      assertTrue(block.contains(port), "README's block uses port " + port);
      ports.put(port, Integer.toString(Slime.freePort()));
    }
    ports.put("9000", Integer.toString(upstream.port()));
    return ports;
  }

  private static String moved(String text, Map<String, String> ports) {
    String out = text;
    for (Map.Entry<String, String> port : ports.entrySet()) {
      out = out.replaceAll("(?<![0-9])" + port.getKey() + "(?![0-9])", port.getValue());
    }
    return out;
  }

  /** Runs the block in bash, failing on any failed command; returns what it printed. */
  private String run(String block, Map<String, String> ports) throws Exception {
    Path slime = dir.resolve("slime");
    Files.writeString(
        slime,
        "#!/usr/bin/env bash\nexec '"
            + Path.of(System.getProperty("java.home"), "bin", "java")
            + "' -Xmx256m -cp '"
            + System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"))
            + "' io.slime.cli.SlimeCommand \"$@\"\n");
    assertTrue(slime.toFile().setExecutable(true));
    // What the block started in the background stops with it, as with Ctrl-C in a terminal.
    String script =
        "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n"
            + moved(block, ports).replace("bin/slime", slime.toString());
    Path output = dir.resolve("output.log");
    Process shell =
        new ProcessBuilder("bash", "-c", script)
            .directory(ROOT.toFile())
            .redirectErrorStream(true)
            .redirectOutput(output.toFile())
            .start();
    shells.add(shell);
    boolean ended = shell.waitFor(120, TimeUnit.SECONDS);
    String printed = Files.readString(output);
    assertTrue(ended, "the block ended within 120 s:\n" + printed);
    assertEquals(0, shell.exitValue(), "the block's exit status:\n" + printed);
    return printed;
  }
}
