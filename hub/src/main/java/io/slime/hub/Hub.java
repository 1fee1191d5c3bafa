package io.slime.hub;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.slime.hub.http.FrontDoor;
import io.slime.hub.http.HubSettings;
import io.slime.hub.http.ParsingRefusals;
import io.slime.hub.peer.ClusterSettings;
import io.slime.shared.log.ResourceErrorFilter;
import io.slime.shared.token.TokenCodec;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A running hub node: one ActorSystem with its dispatcher, workers and HTTP port. */
public final class Hub implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Hub.class);
  private static final Duration BIND_TIMEOUT = Duration.ofSeconds(30);

  private final ActorSystem<Guardian.Command> system;
  private final InetSocketAddress address;

  private Hub(ActorSystem<Guardian.Command> system, InetSocketAddress address) {
    this.system = system;
    this.address = address;
  }

  /**
   * Starts a hub from a merged config (slime.hub.* plus any pekko.*) and returns once it is bound.
   * Throws com.typesafe.config.ConfigException naming the key on invalid settings, and
   * IllegalStateException when the port cannot be bound.
   */
  public static Hub start(Config config) {
    HubSettings settings = HubSettings.create(config);
    ResourceErrorFilter.install();
    if (settings.cluster().kubernetes()) {
      requireServiceAccount(config);
    }
    TokenCodec tokens = TokenCodec.forSecret(settings.secret());
    CompletableFuture<FrontDoor.Binding> bound = new CompletableFuture<>();
    ActorSystem<Guardian.Command> system =
        ActorSystem.create(
            Guardian.create(settings, config, tokens, bound),
            ClusterSettings.SYSTEM_NAME,
            withCluster(settings, serverSettings(settings).withFallback(config)));
    if (settings.cluster().kubernetes()) {
      // The other pods find this one through Pekko Management, and the cluster forms from them.
      PekkoManagement.get(system).start();
      ClusterBootstrap.get(system).start();
    }
    try {
      FrontDoor.Binding binding = bound.get(BIND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      InetSocketAddress address = binding.address();
      log.info(
          "Hub started, listening on {}, {}",
          printable(address, settings.host()),
          binding.limit().describe());
      return new Hub(system, address);
    } catch (ExecutionException | TimeoutException e) {
      system.terminate();
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      if (cause instanceof ConfigException invalid) {
        throw invalid;
      }
      throw new IllegalStateException(
          "cannot listen on " + settings.host() + ":" + settings.port() + ": " + cause.getMessage(),
          cause);
    } catch (InterruptedException e) {
      system.terminate();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting", e);
    }
  }

  /**
   * Server settings a proxy cannot work without, derived from slime.hub so users tune them there:
   * the hub bounds waiting itself, a request being served may take hours, and every answer the hub
   * makes carries a Slime-Error, Pekko's refusals of what it cannot parse included. Idle
   * connections and their number are the front door's to bound (slime.hub.client-idle-timeout,
   * slime.hub.max-connections).
   */
  private static Config serverSettings(HubSettings settings) {
    return ConfigFactory.parseMap(
        Map.of(
            "pekko.http.server.request-timeout", "infinite",
            "pekko.http.server.parsing.error-handler", ParsingRefusals.class.getName(),
            "pekko.http.server.parsing.illegal-header-warnings", "off",
            "pekko.http.server.server-header", "",
            "pekko.http.server.transparent-head-requests", "off",
            "pekko.http.server.parsing.max-content-length", "infinite",
            "pekko.http.server.websocket.periodic-keep-alive-max-idle",
                settings.keepAlive().toMillis() + "ms",
            "pekko.coordinated-shutdown.phases.service-requests-done.timeout",
                settings.shutdownGrace().plus(FrontDoor.FLUSH_DEADLINE).plusSeconds(1).toMillis()
                    + "ms"));
  }

  /** Bootstrap reads the Kubernetes API with the pod's service account; without one it cannot. */
  private static void requireServiceAccount(Config config) {
    String caPath = config.getString("pekko.discovery.kubernetes-api.api-ca-path");
    if (!Files.exists(Path.of(caPath))) {
      throw new ConfigException.BadValue(
          "slime.hub.cluster.bootstrap",
          "kubernetes bootstrap runs only in a Kubernetes pod with a service account ("
              + caPath
              + " is missing)");
    }
  }

  private static Config withCluster(HubSettings settings, Config config) {
    return settings.cluster().enabled()
        ? settings.cluster().pekkoConfig().withFallback(config)
        : config;
  }

  /** The address the hub is bound to (the real port when configured with port 0). */
  public InetSocketAddress address() {
    return address;
  }

  /** Completes when the hub has stopped, by close() or by a JVM shutdown. */
  public CompletionStage<Done> terminated() {
    return system.getWhenTerminated();
  }

  /**
   * Stops gracefully: no new connections, waiting requests answered 503, requests being served
   * given slime.hub.shutdown-grace to finish. Blocks until stopped.
   */
  @Override
  public void close() {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().join();
  }

  /**
   * An address as an operator writes it: the host they configured when the hub listens on every
   * interface (Java reports that as {@code 0:0:0:0:0:0:0:0}), IPv6 in brackets.
   */
  static String printable(InetSocketAddress address, String configuredHost) {
    String host =
        address.getAddress() != null && address.getAddress().isAnyLocalAddress()
            ? configuredHost
            : address.getHostString();
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
  }
}
