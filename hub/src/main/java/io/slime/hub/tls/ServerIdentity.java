package io.slime.hub.tls;

import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.security.auth.x500.X500Principal;

/**
 * One certificate chain with its private key, checked to belong together, and the TLS context that
 * serves it. Immutable: a reload builds a new one, and connections keep the one they started with.
 */
record ServerIdentity(SSLContext context, CertificateSummary certificate) {

  private static final char[] NO_PASSWORD = new char[0];
  private static final byte[] PROBE = "slime: does this key belong to the certificate".getBytes();

  /** Reads and checks the files of {@code settings}; the exception names the file at fault. */
  static ServerIdentity load(TlsSettings settings) throws TlsFileException {
    List<X509Certificate> chain = new ArrayList<>(PemFiles.certificates(settings.cert()));
    if (settings.chain().isPresent()) {
      chain.addAll(PemFiles.certificates(settings.chain().get()));
    }
    PrivateKey key = PemFiles.privateKey(settings.key());
    X509Certificate leaf = chain.get(0);
    if (!belongsTo(key, leaf)) {
      throw new TlsFileException(
          settings.key(), "the private key does not match the certificate in " + settings.cert());
    }
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry("slime", key, NO_PASSWORD, chain.toArray(new X509Certificate[0]));
      KeyManagerFactory keys =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(store, NO_PASSWORD);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keys.getKeyManagers(), null, null);
      return new ServerIdentity(context, describe(leaf));
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new TlsFileException(settings.cert(), "cannot be served: " + e.getMessage());
    }
  }

  /** Whether {@code key} signs what the certificate's public key verifies. */
  private static boolean belongsTo(PrivateKey key, X509Certificate certificate) {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "RSA" -> "SHA256withRSA";
          case "EC" -> "SHA256withECDSA";
          case "EdDSA", "Ed25519", "Ed448" -> "EdDSA";
          default -> null;
        };
    if (algorithm == null) {
      // An unusual key type: the handshake itself will tell.
      return true;
    }
    try {
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(PROBE);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(certificate.getPublicKey());
      verifier.update(PROBE);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static CertificateSummary describe(X509Certificate leaf) {
    return new CertificateSummary(
        leaf.getSubjectX500Principal().getName(X500Principal.RFC2253),
        leaf.getIssuerX500Principal().getName(X500Principal.RFC2253),
        leaf.getSerialNumber().toString(16),
        leaf.getNotAfter().toInstant());
  }
}
