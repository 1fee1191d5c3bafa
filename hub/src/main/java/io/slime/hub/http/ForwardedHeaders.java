package io.slime.hub.http;

import io.slime.hub.policy.Protocol;
import io.slime.shared.agent.Labels;
import io.slime.shared.config.GoDuration;
import io.slime.shared.protocol.Header;
import io.slime.shared.protocol.HopByHop;
import io.slime.shared.protocol.SlimeHeaders;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/**
 * The application's request headers as the upstream gets them, and the Slime-* control headers
 * read on the way: one pass over the headers per request. A malformed control header is reported
 * in {@link #problem} rather than guessed at.
 */
final class ForwardedHeaders {
  /** Besides the hop-by-hop ones: set anew for the upstream, carried by the entity, or Pekko's own. */
  private static final Set<String> NOT_FORWARDED =
      Set.of(
          "host",
          "content-type",
          "content-length",
          "timeout-access",
          "remote-address",
          "raw-request-uri",
          "tls-session-info");

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
    String realIpValue = null;
    String host = null;
    Set<String> connectionOptions = Set.of();
    String realIpHeader = realIp.header().toLowerCase(Locale.ROOT);
    for (HttpHeader h : request.getHeaders()) {
      String name = h.lowercaseName();
      if (name.startsWith(SlimeHeaders.CONTROL_PREFIX)) {
        control(b, name, h.value(), maxPriority);
        continue;
      }
      if (!realIpHeader.isEmpty() && name.equals(realIpHeader)) {
        // Read, never passed on: the hub says who the client is (X-Real-IP, X-Forwarded-For).
        realIpValue = realIpValue == null ? h.value() : realIpValue + ", " + h.value();
        if (!name.equals("x-forwarded-for")) {
          continue;
        }
      }
      switch (name) {
        case "connection" -> connectionOptions = connectionOptions(h.value());
        case "x-forwarded-for" -> forwardedFor = h.value();
        case "x-forwarded-proto" -> forwardedProto = h.value();
        case "x-forwarded-host" -> forwardedHost = h.value();
        case "host" -> host = h.value();
        case "upgrade" -> b.upgrade = h.value();
        default -> {
          if (name.equals("accept")) {
            b.accept = h.value();
          }
          if (!HopByHop.HEADERS.contains(name) && !NOT_FORWARDED.contains(name)) {
            b.out.add(new Header(h.name(), h.value()));
          }
        }
      }
    }
    if (!connectionOptions.isEmpty()) {
      Set<String> options = connectionOptions;
      b.out.removeIf(h -> options.contains(h.name().toLowerCase(Locale.ROOT)));
    }
    b.clientIp = realIp.isConfigured() ? realIp.clientIp(peerIp, realIpValue) : peerIp;
    if (realIp.isConfigured() && !realIp.isTrusted(peerIp)) {
      // What an untrusted client says of its own address is not passed on as if it were true.
      forwardedFor = null;
    }
    b.out.add(
        new Header(
            "X-Forwarded-For", forwardedFor == null ? peerIp : forwardedFor + ", " + peerIp));
    if (realIp.isConfigured()) {
      b.out.add(new Header("X-Real-IP", b.clientIp));
    }
    b.out.add(new Header("X-Forwarded-Proto", forwardedProto != null ? forwardedProto : "http"));
    if (forwardedHost == null) {
      // As the application addressed the hub, port included (HTTP/1.0 may send no Host).
      forwardedHost = host != null ? host : request.getUri().host().address();
    }
    b.out.add(new Header("X-Forwarded-Host", forwardedHost));
    return new ForwardedHeaders(b);
  }

  private static void control(Builder b, String name, String value, int maxPriority) {
    switch (name) {
      case "slime-app-password" -> b.appPassword = value;
      case "slime-scope" -> b.scope = value.trim();
      case "slime-block" -> b.block = value.trim().equals("1");
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
          value.matches("[0-9]+") ? Duration.ofSeconds(Long.parseLong(value)) : GoDuration.parse(value);
      return d.isNegative() ? null : d;
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** Headers named in Connection are hop-by-hop too. */
  private static Set<String> connectionOptions(String value) {
    Set<String> options = new HashSet<>();
    for (String token : value.split(",")) {
      String option = token.trim().toLowerCase(Locale.ROOT);
      if (!option.isEmpty()) {
        options.add(option);
      }
    }
    return options;
  }
}
