package io.slime.agent.settings;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Which certificates the agent believes of an {@code https} hub. Without {@code
 * slime.agent.ca-cert}, the JDK's default CAs. With it, only the CAs in that file, instead of the
 * default ones, as {@code curl --cacert} does: a hub on a private CA is then impersonated by no
 * certificate a public CA issued for its name. The hub's name is checked against its certificate
 * either way (the JDK's HTTP client verifies host names).
 */
public final class HubTrust {
  private static final String KEY = "slime.agent.ca-cert";

  private final SSLContext context;
  private final String source;

  private HubTrust(SSLContext context, String source) {
    this.context = context;
    this.source = source;
  }

  /** Reads {@code slime.agent.ca-cert}; a file it cannot use is an error naming that key. */
  public static HubTrust create(Config config) {
    String file = config.getString(KEY).strip();
    if (file.isEmpty()) {
      try {
        return new HubTrust(SSLContext.getDefault(), "the JDK's default CAs");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("the JDK has no TLS", e);
      }
    }
    Path path = Path.of(file);
    Collection<? extends Certificate> certificates;
    try (InputStream in = Files.newInputStream(path)) {
      certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
    } catch (NoSuchFileException e) {
      throw new ConfigException.BadValue(KEY, path + ": no such file");
    } catch (IOException | GeneralSecurityException e) {
      throw new ConfigException.BadValue(KEY, path + ": not PEM certificates: " + e.getMessage());
    }
    if (certificates.isEmpty()) {
      throw new ConfigException.BadValue(
          KEY, path + ": holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
    }
    try {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      int n = 0;
      for (Certificate certificate : certificates) {
        store.setCertificateEntry("ca-" + n++, certificate);
      }
      TrustManagerFactory trust =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trust.init(store);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trust.getTrustManagers(), null);
      return new HubTrust(context, certificates.size() + " CA certificate(s) of " + path);
    } catch (IOException | GeneralSecurityException e) {
      throw new ConfigException.BadValue(KEY, path + ": cannot be trusted: " + e.getMessage());
    }
  }

  /** The TLS context the hub connections use. */
  public SSLContext context() {
    return context;
  }

  @Override
  public String toString() {
    return source;
  }
}
