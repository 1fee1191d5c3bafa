package io.slime.hub.http;

import io.slime.hub.policy.Protocol;
import io.slime.shared.agent.Labels;
import io.slime.shared.config.GoDuration;
import io.slime.shared.http.HeaderRules;
import io.slime.shared.protocol.Header;
import io.slime.shared.protocol.SlimeHeaders;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.scaladsl.model.headers.SyntheticHeader;

/**
 * The application's request headers as the upstream gets them, and the Slime-* control headers read
 * on the way: one pass over the headers per request. A malformed control header is reported in
 * {@link #problem} rather than guessed at.
 *
 * <p>What passes is {@link HeaderRules#request}'s to say. The forwarding headers are the hub's own:
 * {@code X-Forwarded-For}, {@code X-Forwarded-Proto}, {@code X-Forwarded-Host}, {@code X-Real-IP}
 * and {@code Forwarded} are always set, and what the client sent of them is kept only when the
 * connection comes from a trusted proxy ({@link RealIp#isTrusted}): then its X-Forwarded-For and
 * Forwarded lists are extended by this hop, its X-Forwarded-Proto and X-Forwarded-Host kept. Anyone
 * else's are replaced, so a client cannot pass itself off as another. Repeated fields count as one
 * list, in order.
 */
final class ForwardedHeaders {
  /** The scheme applications reach the hub by. */
  private static final String SCHEME = "http";

  /** Set anew for the upstream (Host by the agent, Content-* by the entity). */
  private static final Set<String> NOT_FORWARDED = Set.of("host", "content-type", "content-length");

  /** An RFC 9110 token: a Forwarded parameter value that needs no quotes. */
  private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

  final List<Header> forwarded;
  final String appPassword;
  final String scope;
  final boolean block;
  final String clientIp;
  final Map<String, String> select;

  /** The Slime-Priority given, or -1. */
  final int priority;

  /** The Slime-Block-Timeout given, or null. */
  final Duration blockTimeout;

  final Protocol protocol;

  /** What is wrong with a Slime-* header, or null. */
  final String problem;

  private ForwardedHeaders(Builder b) {
    this.forwarded = b.out;
    this.appPassword = b.appPassword;
    this.scope = b.scope == null || b.scope.isEmpty() ? null : b.scope;
    this.block = b.block;
    this.clientIp = b.clientIp;
    this.select = Map.copyOf(b.select);
    this.priority = b.priority;
    this.blockTimeout = b.blockTimeout;
    this.protocol = Protocol.of(b.accept, b.upgrade);
    this.problem = b.problem;
  }

  private static final class Builder {
    final List<Header> out = new ArrayList<>();
    String appPassword;
    String scope;
    boolean block;
    String clientIp;
    final Map<String, String> select = new HashMap<>();
    int priority = -1;
    Duration blockTimeout;
    String accept;
    String upgrade;
    String problem;

    void problem(String what) {
      if (problem == null) {
        problem = what;
      }
    }
  }

  static ForwardedHeaders of(HttpRequest request, String peerIp, RealIp realIp, int maxPriority) {
    Builder b = new Builder();
    String forwardedFor = null;
    String forwardedProto = null;
    String forwardedHost = null;
    String forwarded = null;
    String realIpValue = null;
    String host = null;
    List<Header> passed = new ArrayList<>();
    String realIpHeader = realIp.header().toLowerCase(Locale.ROOT);
    for (HttpHeader h : request.getHeaders()) {
      String name = h.lowercaseName();
      if (name.startsWith(SlimeHeaders.CONTROL_PREFIX)) {
        control(b, name, h.value(), maxPriority);
        continue;
      }
      if (h instanceof SyntheticHeader) {
        continue; // Pekko's own attributes of this connection, never the client's
      }
      if (!realIpHeader.isEmpty() && name.equals(realIpHeader)) {
        // Read, never passed on as it came: the hub says who the client is.
        realIpValue = joined(realIpValue, h.value());
      }
      switch (name) {
        case "x-forwarded-for" -> forwardedFor = joined(forwardedFor, h.value());
        case "x-forwarded-proto" -> forwardedProto = joined(forwardedProto, h.value());
        case "x-forwarded-host" -> forwardedHost = joined(forwardedHost, h.value());
        case "forwarded" -> forwarded = joined(forwarded, h.value());
        case "x-real-ip" -> {} // the hub's own replaces it
        case "host" -> host = h.value();
        default -> {
          if (name.equals("accept")) {
            b.accept = h.value();
          } else if (name.equals("upgrade")) {
            b.upgrade = h.value();
          }
          if (!name.equals(realIpHeader) && !NOT_FORWARDED.contains(name)) {
            passed.add(new Header(h.name(), h.value()));
          }
        }
      }
    }
    b.out.addAll(HeaderRules.request(passed));
    b.clientIp = realIp.isConfigured() ? realIp.clientIp(peerIp, realIpValue) : peerIp;
    if (!realIp.isTrusted(peerIp)) {
      // What an untrusted client says of earlier hops is not passed on as if it were true.
      forwardedFor = null;
      forwardedProto = null;
      forwardedHost = null;
      forwarded = null;
    }
    // As the application addressed the hub, port included (HTTP/1.0 may send no Host).
    String hubHost = host != null ? host : request.getUri().host().address();
    b.out.add(new Header("X-Forwarded-For", joined(forwardedFor, peerIp)));
    b.out.add(new Header("X-Forwarded-Proto", forwardedProto != null ? forwardedProto : SCHEME));
    b.out.add(new Header("X-Forwarded-Host", forwardedHost != null ? forwardedHost : hubHost));
    b.out.add(new Header("X-Real-IP", b.clientIp));
    b.out.add(new Header("Forwarded", joined(forwarded, forwardedElement(peerIp, hubHost))));
    return new ForwardedHeaders(b);
  }

  /** A list field's values in order, as one value; {@code list} is null for none yet. */
  private static String joined(String list, String value) {
    return list == null ? value : list + ", " + value;
  }

  /** This hop as RFC 7239 writes it: {@code for=192.0.2.7;host="hub:8080";proto=http}. */
  static String forwardedElement(String peerIp, String hubHost) {
    String node = peerIp.indexOf(':') >= 0 ? quoted("[" + peerIp + "]") : peerIp;
    StringBuilder element = new StringBuilder("for=").append(node);
    if (!hubHost.isEmpty()) {
      element.append(";host=").append(TOKEN.matcher(hubHost).matches() ? hubHost : quoted(hubHost));
    }
    return element.append(";proto=").append(SCHEME).toString();
  }

  private static String quoted(String value) {
    return '"' + value.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
  }

  private static void control(Builder b, String name, String value, int maxPriority) {
    switch (name) {
      case "slime-app-password" -> b.appPassword = value;
      case "slime-scope" -> b.scope = value.trim();
      case "slime-block" -> {
        // Go Slime reads only "1"; the usual spellings of yes and no mean what they say, and
        // anything else is refused rather than silently taken as no.
        switch (value.trim().toLowerCase(Locale.ROOT)) {
          case "1", "true", "yes", "on" -> b.block = true;
          case "0", "false", "no", "off", "" -> b.block = false;
          default -> b.problem("Slime-Block must be 1 or 0 (or true/false, yes/no, on/off)");
        }
      }
      case "slime-select" -> {
        try {
          b.select.putAll(Labels.parse(value));
        } catch (IllegalArgumentException e) {
          b.problem("Slime-Select: " + e.getMessage());
        }
      }
      case "slime-priority" -> {
        try {
          b.priority = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
          b.priority = -2;
        }
        if (b.priority < 0 || b.priority > maxPriority) {
          b.problem("Slime-Priority must be a whole number from 0 to " + maxPriority);
        }
      }
      case "slime-block-timeout" -> {
        b.blockTimeout = timeout(value.trim());
        if (b.blockTimeout == null) {
          b.problem("Slime-Block-Timeout must be a duration such as 30s or 1m30s, or seconds");
        }
      }
      default -> {}
    }
  }

  /** Go-style ({@code 30s}, {@code 1m30s}) or plain seconds ({@code 30}); null when neither. */
  private static Duration timeout(String value) {
    try {
      Duration d =
          value.matches("[0-9]+")
              ? Duration.ofSeconds(Long.parseLong(value))
              : GoDuration.parse(value);
      return d.isNegative() ? null : d;
    } catch (RuntimeException e) {
      return null;
    }
  }
}
