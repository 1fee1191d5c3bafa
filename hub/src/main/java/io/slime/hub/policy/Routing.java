package io.slime.hub.policy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Which {@link Policy} serves a request, by path prefix and protocol, as SpeedMimi's {@code
 * routing} section has it: the route with the longest matching {@code path} wins, and its {@code
 * protocols} may name another policy for server-sent events or WebSocket upgrades.
 *
 * @param ipHashFallback what an ip-hash request does when its client's agent has no idle worker:
 *     another policy, or null to wait for that agent (with {@code Slime-Block}; else 503)
 */
public record Routing(List<Route> routes, Policy ipHashFallback) {

  /** One {@code slime.hub.routing.routes} entry. */
  public record Route(String name, String path, Policy policy, Map<Protocol, Policy> protocols) {
    Policy policyFor(Protocol protocol) {
      return protocols.getOrDefault(protocol, policy);
    }
  }

  public static final Routing DEFAULT = new Routing(List.of(), null);

  public Routing {
    routes =
        routes.stream().sorted(Comparator.comparingInt((Route r) -> -r.path().length())).toList();
  }

  public Policy policyFor(String path, Protocol protocol) {
    for (Route route : routes) {
      if (path.startsWith(route.path())) {
        return route.policyFor(protocol);
      }
    }
    return Policy.FIFO;
  }

  /**
   * Reads {@code slime.hub.routing} (given as {@code routing}); every bad value names its key.
   *
   * @param prefix the full path of {@code routing}, for messages
   */
  public static Routing create(Config routing, String prefix) {
    List<Route> routes = new ArrayList<>();
    Config table = routing.getConfig("routes");
    for (String name : table.root().keySet()) {
      String key = prefix + ".routes." + name;
      if (table.getValue(name).valueType() != ConfigValueType.OBJECT) {
        throw new ConfigException.BadValue(key, "must be an object with path, policy, protocols");
      }
      Config route = table.getConfig(name);
      String path = route.hasPath("path") ? route.getString("path") : "";
      if (!path.startsWith("/")) {
        throw new ConfigException.BadValue(key + ".path", "must be a path prefix starting with /");
      }
      Policy policy = route.hasPath("policy") ? policy(route, "policy", key) : Policy.FIFO;
      Map<Protocol, Policy> protocols = new EnumMap<>(Protocol.class);
      if (route.hasPath("protocols")) {
        Config byProtocol = route.getConfig("protocols");
        for (String protocolName : byProtocol.root().keySet()) {
          Protocol protocol = protocol(protocolName, key + ".protocols." + protocolName);
          protocols.put(protocol, policy(byProtocol, protocolName, key + ".protocols"));
        }
      }
      routes.add(new Route(name, path, policy, Map.copyOf(protocols)));
    }
    String fallback = routing.getString("ip-hash-fallback").strip();
    Policy ipHashFallback = null;
    if (!fallback.equalsIgnoreCase("wait")) {
      try {
        ipHashFallback = Policy.parse(fallback);
      } catch (IllegalArgumentException e) {
        throw new ConfigException.BadValue(
            prefix + ".ip-hash-fallback", e.getMessage() + ", or wait");
      }
      if (ipHashFallback == Policy.IP_HASH) {
        throw new ConfigException.BadValue(
            prefix + ".ip-hash-fallback", "must be another policy than ip-hash, or wait");
      }
    }
    return new Routing(routes, ipHashFallback);
  }

  private static Policy policy(Config config, String path, String keyPrefix) {
    try {
      return Policy.parse(config.getString(path));
    } catch (IllegalArgumentException e) {
      throw new ConfigException.BadValue(keyPrefix + "." + path, e.getMessage());
    }
  }

  private static Protocol protocol(String name, String key) {
    return switch (name) {
      case "sse" -> Protocol.SSE;
      case "websocket" -> Protocol.WEBSOCKET;
      case "http" -> Protocol.HTTP;
      default -> throw new ConfigException.BadValue(key, "protocol must be sse, websocket or http");
    };
  }
}
