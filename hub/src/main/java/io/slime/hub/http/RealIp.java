package io.slime.hub.http;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The client's real address behind proxies, as SpeedMimi's {@code real_ip_header} and {@code
 * trusted_proxies} have it: the {@code header} is believed only when the connection comes from a
 * trusted address. For a list header such as X-Forwarded-For, the real client is the right-most
 * address that is not itself a trusted proxy. Without a header configured, the connection's own
 * address is the client.
 */
public final class RealIp {
  private static final Pattern LITERAL = Pattern.compile("[0-9A-Fa-f.:]+");

  private final String header;
  private final List<Cidr> trusted;

  private record Cidr(byte[] network, int bits) {
    boolean contains(byte[] address) {
      if (address.length != network.length) {
        return false;
      }
      int full = bits / 8;
      for (int i = 0; i < full; i++) {
        if (address[i] != network[i]) {
          return false;
        }
      }
      int rest = bits % 8;
      if (rest == 0) {
        return true;
      }
      int mask = (0xff << (8 - rest)) & 0xff;
      return (address[full] & mask) == (network[full] & mask);
    }
  }

  public static final RealIp NONE = new RealIp("", List.of());

  private RealIp(String header, List<Cidr> trusted) {
    this.header = header;
    this.trusted = trusted;
  }

  /** Reads {@code slime.hub.real-ip}; bad entries name their key. */
  public static RealIp create(Config realIp, String prefix) {
    String header = realIp.getString("header").strip();
    List<Cidr> trusted = new ArrayList<>();
    for (String entry : realIp.getStringList("trusted-proxies")) {
      try {
        trusted.add(parseCidr(entry.strip()));
      } catch (IllegalArgumentException e) {
        throw new ConfigException.BadValue(prefix + ".trusted-proxies", e.getMessage());
      }
    }
    if (!header.isEmpty() && trusted.isEmpty()) {
      throw new ConfigException.BadValue(
          prefix + ".trusted-proxies",
          "list the proxies whose " + header + " to believe (CIDRs such as 10.0.0.0/8)");
    }
    return new RealIp(header, List.copyOf(trusted));
  }

  /** The header to read, or empty when none is configured. */
  public String header() {
    return header;
  }

  public boolean isConfigured() {
    return !header.isEmpty();
  }

  /** Whether {@code ip} is one of the trusted proxies. */
  public boolean isTrusted(String ip) {
    byte[] address = literal(ip);
    if (address == null) {
      return false;
    }
    for (Cidr cidr : trusted) {
      if (cidr.contains(address)) {
        return true;
      }
    }
    return false;
  }

  /** The real client: from {@code headerValue} (or null) when {@code peerIp} is trusted. */
  public String clientIp(String peerIp, String headerValue) {
    if (headerValue == null || !isTrusted(peerIp)) {
      return peerIp;
    }
    String[] hops = headerValue.split(",");
    for (int i = hops.length - 1; i >= 0; i--) {
      String hop = hops[i].strip();
      if (literal(hop) == null) {
        return peerIp; // not an address: believe nothing of it
      }
      if (!isTrusted(hop) || i == 0) {
        return hop;
      }
    }
    return peerIp;
  }

  private static Cidr parseCidr(String text) {
    int slash = text.indexOf('/');
    String host = slash < 0 ? text : text.substring(0, slash);
    byte[] network = literal(host);
    if (network == null) {
      throw new IllegalArgumentException("'" + text + "' is not an address or CIDR");
    }
    int bits;
    try {
      bits = slash < 0 ? network.length * 8 : Integer.parseInt(text.substring(slash + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' has a bad prefix length");
    }
    if (bits < 0 || bits > network.length * 8) {
      throw new IllegalArgumentException("'" + text + "' has a bad prefix length");
    }
    return new Cidr(network, bits);
  }

  /** The bytes of an IP literal, or null when it is not one (never a DNS lookup). */
  private static byte[] literal(String text) {
    if (text == null || text.isEmpty() || !LITERAL.matcher(text).matches()) {
      return null;
    }
    try {
      return InetAddress.getByName(text).getAddress();
    } catch (UnknownHostException e) {
      return null;
    }
  }
}
