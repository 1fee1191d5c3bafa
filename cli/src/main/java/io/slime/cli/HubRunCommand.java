package io.slime.cli;

import com.typesafe.config.Config;
import io.slime.hub.Hub;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code slime hub run}: starts a hub and runs until it stops (SIGTERM included). */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    versionProvider = VersionInfo.class,
    description = "Run a hub: applications send it HTTP requests, agents connect to serve them.",
    footer = {
      "",
      "Every option can also come from the environment or from --config FILE (HOCON, keys under",
      "slime.hub); precedence: flag, environment, file, built-in defaults."
    })
final class HubRunCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--secret",
      paramLabel = "SECRET",
      description = "Secret agent tokens are sealed with; required. Env: SECRET.")
  String secret;

  @Option(
      names = "--host",
      paramLabel = "HOST",
      description = "Interface to listen on. Env: HOST. Default: 0.0.0.0.")
  String host;

  @Option(
      names = "--port",
      paramLabel = "PORT",
      description = "Port to listen on. Env: PORT. Default: 8080.")
  Integer port;

  @Option(
      names = "--appPassword",
      paramLabel = "PASSWORD",
      description =
          "Password applications must send in the Slime-App-Password header. Env: APP_PASSWORD.")
  String appPassword;

  @Option(
      names = "--concurrent",
      paramLabel = "N",
      description =
          "Most application requests active at once; 0 means no limit. Env: CONCURRENT. Default:"
              + " 0.")
  Integer concurrent;

  @Option(
      names = "--adminToken",
      paramLabel = "TOKEN",
      description =
          "Bearer token of the admin API under /_slime/api/v1/; without it the API is off."
              + " Env: ADMIN_TOKEN.")
  String adminToken;

  @Option(
      names = "--clusterHost",
      paramLabel = "HOST",
      description =
          "Address other hub nodes reach this one at for the cluster; without it the hub runs"
              + " alone. Env: CLUSTER_HOST.")
  String clusterHost;

  @Option(
      names = "--clusterPort",
      paramLabel = "PORT",
      description = "Cluster port of this node. Env: CLUSTER_PORT. Default: 7355.")
  Integer clusterPort;

  @Option(
      names = "--seed",
      paramLabel = "HOST:PORT",
      split = ",",
      description =
          "Cluster seed nodes to join (comma-separated or repeated): the same list of several"
              + " nodes on every node, so a restarted node finds the live cluster. Env: SEEDS.")
  List<String> seeds;

  @Option(
      names = "--tlsCert",
      paramLabel = "FILE",
      description =
          "PEM certificate (and chain) to serve TLS on the port with; needs --tlsKey. Replaced"
              + " files are served to new connections within seconds. Env: TLS_CERT.")
  String tlsCert;

  @Option(
      names = "--tlsKey",
      paramLabel = "FILE",
      description = "PEM private key of --tlsCert (unencrypted). Env: TLS_KEY.")
  String tlsKey;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "HOCON file with slime.hub.* settings.")
  Path configFile;

  @Override
  public Integer call() {
    Config config = SlimeCommand.configLoader(spec).load(ConfigLoader.HUB_RUN, flags(), configFile);
    // The hub logs its bound address; CoordinatedShutdown stops it on SIGTERM.
    Hub hub = Hub.start(config);
    hub.terminated().toCompletableFuture().join();
    return 0;
  }

  Map<Setting, Object> flags() {
    Map<Setting, Object> flags = new EnumMap<>(Setting.class);
    flags.put(Setting.HUB_SECRET, secret);
    flags.put(Setting.HUB_HOST, host);
    flags.put(Setting.HUB_PORT, port);
    flags.put(Setting.HUB_APP_PASSWORD, appPassword);
    flags.put(Setting.HUB_CONCURRENT, concurrent);
    flags.put(Setting.HUB_ADMIN_TOKEN, adminToken);
    flags.put(Setting.HUB_CLUSTER_HOST, clusterHost);
    flags.put(Setting.HUB_CLUSTER_PORT, clusterPort);
    flags.put(Setting.HUB_CLUSTER_SEEDS, seeds);
    flags.put(Setting.HUB_TLS_CERT, tlsCert);
    flags.put(Setting.HUB_TLS_KEY, tlsKey);
    return flags;
  }
}
