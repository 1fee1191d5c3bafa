package io.slime.hub.peer;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Where this hub node sits in a cluster, from {@code slime.hub.cluster}: the address other nodes
 * reach it at and the seed nodes to join. Without a host the node runs alone.
 */
public record ClusterSettings(
    String host,
    int port,
    List<String> seeds,
    Duration statusInterval,
    boolean kubernetes,
    String serviceName,
    int requiredContactPoints) {
  private static final String PREFIX = "slime.hub.cluster.";

  /** The actor system's name: nodes join only systems of the same name. */
  public static final String SYSTEM_NAME = "slime-hub";

  public static ClusterSettings create(Config hub) {
    Config c = hub.getConfig("cluster");
    String host = c.getString("host").strip();
    int port = c.getInt("port");
    if (port < 0 || port > 65535) {
      throw new ConfigException.BadValue(PREFIX + "port", "must be between 0 and 65535");
    }
    List<String> seeds = new ArrayList<>();
    for (String seed : c.getStringList("seeds")) {
      seeds.add(checkedSeed(seed.strip()));
    }
    if (host.isEmpty() && !seeds.isEmpty()) {
      throw new ConfigException.BadValue(
          PREFIX + "host", "seeds are set, so this node needs an address the others reach it at");
    }
    if (host.equals("0.0.0.0")) {
      throw new ConfigException.BadValue(
          PREFIX + "host", "must be an address other nodes can reach, not 0.0.0.0");
    }
    Duration interval;
    try {
      interval = c.getDuration("status-interval");
    } catch (ConfigException.BadValue | ConfigException.WrongType e) {
      interval = Duration.ZERO;
    }
    if (interval.isNegative() || interval.isZero()) {
      throw new ConfigException.BadValue(
          PREFIX + "status-interval", "must be a positive duration such as 20ms");
    }
    String bootstrap = c.getString("bootstrap").strip();
    if (!bootstrap.isEmpty() && !bootstrap.equals("kubernetes")) {
      throw new ConfigException.BadValue(
          PREFIX + "bootstrap", "must be empty or \"kubernetes\", was \"" + bootstrap + "\"");
    }
    boolean kubernetes = bootstrap.equals("kubernetes");
    if (kubernetes && (host.isEmpty() || !seeds.isEmpty())) {
      throw new ConfigException.BadValue(
          PREFIX + "bootstrap",
          "kubernetes bootstrap needs this pod's address as cluster.host, and no seeds");
    }
    return new ClusterSettings(
        host,
        port,
        List.copyOf(seeds),
        interval,
        kubernetes,
        c.getString("kubernetes.service-name"),
        c.getInt("kubernetes.required-contact-points"));
  }

  private static String checkedSeed(String seed) {
    int colon = seed.lastIndexOf(':');
    boolean valid = colon > 0;
    if (valid) {
      try {
        int port = Integer.parseInt(seed.substring(colon + 1));
        valid = port > 0 && port <= 65535;
      } catch (NumberFormatException e) {
        valid = false;
      }
    }
    if (!valid) {
      throw new ConfigException.BadValue(PREFIX + "seeds", "'" + seed + "' is not host:port");
    }
    return seed;
  }

  /** Whether this node is part of a cluster. */
  public boolean enabled() {
    return !host.isEmpty();
  }

  /**
   * Pekko settings for a clustered node: remoting address, seeds, and the rest from cluster.conf.
   */
  public Config pekkoConfig() {
    List<String> seedNodes = new ArrayList<>();
    for (String seed : seeds) {
      seedNodes.add("pekko://" + SYSTEM_NAME + "@" + seed);
    }
    Config bootstrap =
        kubernetes
            ? ConfigFactory.parseMap(
                    java.util.Map.of(
                        "pekko.management.http.hostname",
                        host,
                        "pekko.management.cluster.bootstrap.contact-point-discovery.service-name",
                        serviceName,
                        "pekko.management.cluster.bootstrap.contact-point-discovery"
                            + ".required-contact-point-nr",
                        requiredContactPoints))
                .withFallback(ConfigFactory.parseResources("io/slime/hub/kubernetes.conf"))
            : ConfigFactory.empty();
    return bootstrap
        .withValue("pekko.remote.artery.canonical.hostname", ConfigValueFactory.fromAnyRef(host))
        .withValue("pekko.remote.artery.canonical.port", ConfigValueFactory.fromAnyRef(port))
        .withValue("pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(seedNodes))
        .withFallback(ConfigFactory.parseResources("io/slime/hub/cluster.conf"));
  }
}
