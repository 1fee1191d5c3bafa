package io.slime.shared.net;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * A hub or upstream address as users write it: {@code host:port} or {@code
 * http(s)://host[:port][/path]}, the forms Go Slime accepts.
 */
public record ServiceAddress(boolean secure, String host, int port, String basePath) {

  public static ServiceAddress parse(String text) {
    String trimmed = text == null ? "" : text.trim();
    if (trimmed.isEmpty()) {
      throw new IllegalArgumentException("address is empty");
    }
    String withScheme = trimmed.contains("://") ? trimmed : "http://" + trimmed;
    URI uri;
    try {
      uri = new URI(withScheme);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("'" + text + "' is not host:port or http(s)://host:port");
    }
    String scheme = uri.getScheme().toLowerCase();
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new IllegalArgumentException("'" + text + "' must use http or https");
    }
    if (uri.getHost() == null) {
      throw new IllegalArgumentException("'" + text + "' has no host");
    }
    if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw new IllegalArgumentException("'" + text + "' must not have a query or fragment");
    }
    if (uri.getPort() > 65535) {
      // java.net.URI reads any digits as a port; the connection would fail much later and vaguely.
      throw new IllegalArgumentException("'" + text + "' has a port above 65535");
    }
    boolean secure = scheme.equals("https");
    int port = uri.getPort() != -1 ? uri.getPort() : secure ? 443 : 80;
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    while (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    return new ServiceAddress(secure, uri.getHost(), port, path);
  }

  /** The host and port as a Host header value. */
  public String authority() {
    boolean defaultPort = port == (secure ? 443 : 80);
    String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    return defaultPort ? h : h + ":" + port;
  }

  /** This address as a WebSocket URI for the given path. */
  public String webSocketUri(String path) {
    return (secure ? "wss://" : "ws://") + authority() + basePath + path;
  }

  @Override
  public String toString() {
    return (secure ? "https://" : "http://") + authority() + basePath;
  }
}
