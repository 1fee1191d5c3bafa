package io.slime.hub.tls;

import com.typesafe.config.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLEngine;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.concurrent.ExecutionContext;

/**
 * The certificate the hub's port serves, replaceable at run time. Every new connection takes an
 * {@link SSLEngine} of the certificate current at its start, so a reload reaches new connections
 * and never touches open ones. A replacement is read when the files change on disk (their contents
 * are polled: a Kubernetes secret is replaced by swapping a symbolic link, which no file event
 * reports reliably) or when the admin API asks; a replacement that cannot be used is refused with
 * one log line, and the certificate in use stays.
 */
public final class ServerCertificate {
  private static final Logger log = LoggerFactory.getLogger(ServerCertificate.class);

  /** What a reload did. */
  public sealed interface Reload {
    /** As the admin API answers it. */
    Map<String, Object> json();
  }

  /** The files were read and are served to new connections from now on. */
  public record Reloaded(CertificateSummary certificate) implements Reload {
    @Override
    public Map<String, Object> json() {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("reloaded", true);
      out.putAll(certificate.json());
      return out;
    }
  }

  /** The files were refused; {@code kept} is still served. */
  public record Refused(Path file, String reason, CertificateSummary kept) implements Reload {
    /** The admin API's error code for it. */
    public static final String CODE = "bad-certificate";

    @Override
    public Map<String, Object> json() {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("error", CODE);
      out.put("detail", file + ": " + reason);
      out.put("file", file.toString());
      out.put("reason", reason);
      out.put("served", kept.json());
      return out;
    }
  }

  private final TlsSettings settings;
  private final AtomicReference<ServerIdentity> current = new AtomicReference<>();

  /** The files' contents when last read, and when last looked at by the watcher. */
  private byte[] loadedDigest;

  private byte[] seenDigest;

  /** Reads nothing yet: {@link #load} does, as the port opens. */
  public ServerCertificate(TlsSettings settings) {
    this.settings = settings;
  }

  /**
   * Reads the files at start; a file the hub cannot use is a configuration error that names its
   * key.
   */
  public synchronized void load() {
    byte[] digest = digest(settings);
    try {
      ServerIdentity identity = ServerIdentity.load(settings);
      current.set(identity);
      loadedDigest = digest;
      seenDigest = digest;
      log.info("TLS on, serving certificate {}", identity.certificate());
      warnIfExpired(identity.certificate());
    } catch (TlsFileException e) {
      throw new ConfigException.BadValue(keyOf(settings, e.file()), e.getMessage());
    }
  }

  /** A server-side engine for one new connection, of the certificate current now. */
  public SSLEngine newEngine() {
    SSLEngine engine = current.get().context().createSSLEngine();
    engine.setUseClientMode(false);
    return engine;
  }

  /** The certificate new connections get. */
  public CertificateSummary certificate() {
    return current.get().certificate();
  }

  /** Reads the files again, whether or not they changed, and serves them if they are good. */
  public synchronized Reload reload() {
    byte[] digest = digest(settings);
    seenDigest = digest;
    return read(digest);
  }

  /**
   * Polls the files every {@code slime.hub.tls.watch-interval} and reloads them once they have
   * changed and then stayed the same for one interval, so that a certificate and key replaced one
   * after the other are read together. Stops with the scheduler.
   */
  public Cancellable watch(Scheduler scheduler, ExecutionContext blocking) {
    return scheduler.scheduleWithFixedDelay(
        settings.watchInterval(), settings.watchInterval(), this::check, blocking);
  }

  private synchronized void check() {
    byte[] digest = digest(settings);
    boolean settled = Arrays.equals(digest, seenDigest);
    seenDigest = digest;
    if (settled && !Arrays.equals(digest, loadedDigest)) {
      read(digest);
    }
  }

  private Reload read(byte[] digest) {
    // Whatever the outcome, these contents have had their one log line.
    loadedDigest = digest;
    try {
      ServerIdentity identity = ServerIdentity.load(settings);
      current.set(identity);
      log.info("TLS certificate reloaded, new connections get {}", identity.certificate());
      warnIfExpired(identity.certificate());
      return new Reloaded(identity.certificate());
    } catch (TlsFileException e) {
      log.warn(
          "TLS certificate not reloaded: {}; still serving {}",
          e.getMessage(),
          current.get().certificate());
      return new Refused(e.file(), e.reason(), current.get().certificate());
    }
  }

  private static void warnIfExpired(CertificateSummary certificate) {
    if (certificate.notAfter().isBefore(Instant.now())) {
      log.warn("The TLS certificate expired on {}: clients will refuse it", certificate.notAfter());
    }
  }

  private static String keyOf(TlsSettings settings, Path file) {
    if (file.equals(settings.key())) {
      return "slime.hub.tls.key";
    }
    if (settings.chain().isPresent() && file.equals(settings.chain().get())) {
      return "slime.hub.tls.chain";
    }
    return "slime.hub.tls.cert";
  }

  /** A digest of the files' contents; a file that cannot be read counts as empty. */
  private static byte[] digest(TlsSettings settings) {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    update(sha, settings.cert());
    update(sha, settings.key());
    settings.chain().ifPresent(chain -> update(sha, chain));
    return sha.digest();
  }

  private static void update(MessageDigest sha, Path file) {
    try {
      byte[] bytes = Files.readAllBytes(file);
      sha.update(Integer.toString(bytes.length).getBytes());
      sha.update(bytes);
    } catch (IOException unreadable) {
      sha.update((byte) 0);
    }
  }
}
