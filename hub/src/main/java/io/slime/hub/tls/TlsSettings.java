package io.slime.hub.tls;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * TLS on the hub's port, from {@code slime.hub.tls}: off unless a certificate is named.
 *
 * @param cert PEM file with the server certificate, and possibly its chain after it
 * @param key PEM file with its private key (PKCS#8, PKCS#1 RSA or SEC1 EC, unencrypted)
 * @param chain PEM file with intermediate certificates, sent after the certificate
 * @param watchInterval how often the files are checked for a replacement
 */
public record TlsSettings(Path cert, Path key, Optional<Path> chain, Duration watchInterval) {
  private static final String PREFIX = "slime.hub.tls.";

  /** The TLS settings of {@code hub} (the {@code slime.hub} block), or empty when TLS is off. */
  public static Optional<TlsSettings> create(Config hub) {
    Config c = hub.getConfig("tls");
    String cert = c.getString("cert").strip();
    String key = c.getString("key").strip();
    if (cert.isEmpty() && key.isEmpty()) {
      return Optional.empty();
    }
    if (cert.isEmpty()) {
      throw new ConfigException.BadValue(
          PREFIX + "cert", "is required with slime.hub.tls.key (--tlsCert, TLS_CERT)");
    }
    if (key.isEmpty()) {
      throw new ConfigException.BadValue(
          PREFIX + "key", "is required with slime.hub.tls.cert (--tlsKey, TLS_KEY)");
    }
    String chain = c.getString("chain").strip();
    Duration interval;
    try {
      interval = c.getDuration("watch-interval");
    } catch (ConfigException.BadValue | ConfigException.WrongType e) {
      throw new ConfigException.BadValue(
          PREFIX + "watch-interval", "must be a duration such as 2s");
    }
    if (interval.isNegative() || interval.isZero()) {
      throw new ConfigException.BadValue(PREFIX + "watch-interval", "must be positive");
    }
    return Optional.of(
        new TlsSettings(
            path("cert", cert),
            path("key", key),
            chain.isEmpty() ? Optional.empty() : Optional.of(path("chain", chain)),
            interval));
  }

  private static Path path(String key, String text) {
    try {
      return Path.of(text);
    } catch (InvalidPathException e) {
      throw new ConfigException.BadValue(PREFIX + key, "is not a valid path: " + e.getMessage());
    }
  }
}
