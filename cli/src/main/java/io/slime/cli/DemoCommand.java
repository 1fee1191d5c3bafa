package io.slime.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.slime.agent.Agents;
import io.slime.cli.demo.SampleUpstream;
import io.slime.hub.Hub;
import io.slime.shared.token.AgentToken;
import io.slime.shared.token.TokenCodec;
import java.io.PrintWriter;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.pekko.actor.ActorSystem;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code slime demo}: a hub, two agents with one worker each, and the sample upstream, in one
 * process, with curl lines to try. The quickstart's first command.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    versionProvider = VersionInfo.class,
    description =
        "Run a hub, two agents and a sample upstream in one process, and show what to try.")
final class DemoCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--host", paramLabel = "HOST", description = "Hub interface. Default: 127.0.0.1.")
  String host = "127.0.0.1";

  @Option(names = "--port", paramLabel = "PORT", description = "Hub port. Default: 8080.")
  int port = 8080;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    String secret = HexFormat.of().formatHex(new SecureRandom().generateSeed(16));
    Config defaults = ConfigFactory.load();
    // The hub's system stops with the JVM; the others by the hook below. Left on, their own hooks
    // would be added while the JVM already shuts down, each with a warning.
    Config stoppedByDemo =
        ConfigFactory.parseMap(Map.of("pekko.coordinated-shutdown.run-by-jvm-shutdown-hook", "off"))
            .withFallback(defaults);
    ActorSystem upstreamSystem = ActorSystem.create("slime-demo-upstream", stoppedByDemo);
    SampleUpstream upstream =
        SampleUpstream.start(upstreamSystem, "127.0.0.1", 0).toCompletableFuture().join();

    Hub hub =
        Hub.start(
            ConfigFactory.parseMap(
                    Map.of(
                        "slime.hub.host", host,
                        "slime.hub.port", port,
                        "slime.hub.secret", secret))
                .withFallback(defaults));
    String hubAddress = "127.0.0.1:" + hub.address().getPort();
    TokenCodec tokens = TokenCodec.forSecret(secret);
    Agents first = agent(tokens, "demo-agent-a", hubAddress, upstream, stoppedByDemo);
    Agents second = agent(tokens, "demo-agent-b", hubAddress, upstream, stoppedByDemo);

    String base = "http://" + hubAddress;
    out.println();
    out.println("slime demo: hub on " + base + ", agents demo-agent-a and demo-agent-b");
    out.println("(one worker each) in front of a sample upstream at " + upstream.baseUrl() + ".");
    out.println();
    out.println("Try, in another terminal:");
    out.println("  curl -i '" + base + "/echo?hello=world'     # Slime-Agent names who served it");
    out.println("  curl -N '" + base + "/events?count=5&intervalMs=500'   # one event at a time");
    out.println("  curl -s '" + base + "/slow?ms=5000' & curl -s '" + base + "/slow?ms=5000' &");
    out.println("  curl -i '" + base + "/echo'      # both workers are busy: 503 at once");
    out.println("  curl -i -H 'Slime-Block: 1' '" + base + "/echo'   # waits for a worker instead");
    out.println("  curl -s '" + base + "/bytes?size=104857600' | wc -c   # 100 MB, streamed");
    out.println();
    out.println("Ctrl-C stops everything.");
    out.flush();

    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  first.close();
                  second.close();
                  upstreamSystem.terminate();
                }));
    hub.terminated().toCompletableFuture().join();
    return 0;
  }

  private static Agents agent(
      TokenCodec tokens, String name, String hub, SampleUpstream upstream, Config defaults) {
    String token =
        tokens.seal(
            new AgentToken(new SecureRandom().nextLong() >>> 1, name, null, List.of(), List.of()));
    return Agents.start(
        ConfigFactory.parseMap(
                Map.of(
                    "slime.agent.token", token,
                    "slime.agent.hub", hub,
                    "slime.agent.upstreams", List.of(upstream.baseUrl()),
                    "slime.agent.agent-id", name))
            .withFallback(defaults));
  }
}
