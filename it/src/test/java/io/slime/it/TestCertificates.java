package io.slime.it;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A test CA and server certificates for 127.0.0.1 and localhost, made with {@code openssl} (the JDK
 * cannot build certificates), in a folder of the test's. The same commands as README's.
 */
final class TestCertificates {
  private final Path dir;

  TestCertificates(Path dir) {
    this.dir = dir;
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=slime test CA");
  }

  Path ca() {
    return dir.resolve("ca.pem");
  }

  /**
   * A server certificate signed by the CA: {@code name.pem} and {@code name.key}, the key in {@code
   * keyForm}.
   */
  Server server(String name, KeyForm keyForm) {
    switch (keyForm) {
      case PKCS8_RSA -> openssl("genpkey", "-algorithm", "RSA", "-out", name + ".key");
      case PKCS1_RSA -> openssl("genrsa", "-traditional", "-out", name + ".key", "2048");
      case SEC1_EC ->
          openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", name + ".key");
    }
    openssl("req", "-new", "-key", name + ".key", "-subj", "/CN=" + name, "-out", name + ".csr");
    write(name + ".ext", "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
    openssl(
        "x509",
        "-req",
        "-in",
        name + ".csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        name + ".ext",
        "-out",
        name + ".pem");
    return new Server(name, dir.resolve(name + ".pem"), dir.resolve(name + ".key"));
  }

  enum KeyForm {
    PKCS8_RSA,
    PKCS1_RSA,
    SEC1_EC
  }

  record Server(String name, Path cert, Path key) {}

  /** A client context that trusts only the test CA. */
  SSLContext clientContext() {
    try (InputStream in = Files.newInputStream(ca())) {
      X509Certificate ca =
          (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      store.setCertificateEntry("ca", ca);
      TrustManagerFactory trust =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trust.init(store);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trust.getTrustManagers(), null);
      return context;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private void write(String file, String text) {
    try {
      Files.writeString(dir.resolve(file), text, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private void openssl(String... args) {
    List<String> command = new ArrayList<>();
    command.add("openssl");
    command.addAll(List.of(args));
    try {
      Process process =
          new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new IllegalStateException("openssl " + String.join(" ", args) + " failed: " + output);
      }
    } catch (IOException e) {
      throw new IllegalStateException("openssl is needed for the TLS tests", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
