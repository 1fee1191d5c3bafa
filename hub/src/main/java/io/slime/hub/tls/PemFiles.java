package io.slime.hub.tls;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Certificates and private keys in PEM files, as openssl, certbot and cert-manager write them. The
 * JDK reads only PKCS#8 keys ({@code BEGIN PRIVATE KEY}); the traditional RSA (PKCS#1) and EC
 * (SEC1) forms are the same key inside a smaller envelope, so they are put into a PKCS#8 envelope
 * here rather than pulling in a crypto library for it.
 */
final class PemFiles {
  private static final Pattern BLOCK =
      Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \\1-----", Pattern.DOTALL);

  /** The algorithm identifier of an RSA key: rsaEncryption, NULL parameters. */
  private static final byte[] RSA_ALGORITHM = {
    0x30,
    0x0d,
    0x06,
    0x09,
    0x2a,
    (byte) 0x86,
    0x48,
    (byte) 0x86,
    (byte) 0xf7,
    0x0d,
    0x01,
    0x01,
    0x01,
    0x05,
    0x00
  };

  /** The OID of id-ecPublicKey, which an EC key's algorithm identifier holds with its curve. */
  private static final byte[] EC_OID = {
    0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01
  };

  private static final byte[] VERSION_0 = {0x02, 0x01, 0x00};

  private static final String[] KEY_ALGORITHMS = {"RSA", "EC", "EdDSA", "RSASSA-PSS"};

  private PemFiles() {}

  private record Block(String label, String headers, byte[] der) {}

  /** Every certificate in {@code file}, in order; fails when it holds none. */
  static List<X509Certificate> certificates(Path file) throws TlsFileException {
    List<X509Certificate> certificates = new ArrayList<>();
    CertificateFactory factory;
    try {
      factory = CertificateFactory.getInstance("X.509");
    } catch (CertificateException e) {
      throw new IllegalStateException("the JDK has no X.509 support", e);
    }
    for (Block block : blocks(file)) {
      if (block.label().equals("CERTIFICATE")) {
        try {
          certificates.add(
              (X509Certificate) factory.generateCertificate(new ByteArrayInputStream(block.der())));
        } catch (CertificateException e) {
          throw new TlsFileException(file, "a certificate in it is malformed: " + e.getMessage());
        }
      }
    }
    if (certificates.isEmpty()) {
      throw new TlsFileException(file, "holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
    }
    return certificates;
  }

  /** The one private key in {@code file}. */
  static PrivateKey privateKey(Path file) throws TlsFileException {
    for (Block block : blocks(file)) {
      switch (block.label()) {
        case "PRIVATE KEY" -> {
          return pkcs8(file, block.der());
        }
        case "RSA PRIVATE KEY", "EC PRIVATE KEY" -> {
          if (block.headers().contains("ENCRYPTED")) {
            throw encrypted(file);
          }
          byte[] algorithm =
              block.label().startsWith("RSA")
                  ? RSA_ALGORITHM
                  : der(0x30, concat(EC_OID, ecCurve(file, block.der())));
          return pkcs8(file, der(0x30, concat(VERSION_0, algorithm, der(0x04, block.der()))));
        }
        case "ENCRYPTED PRIVATE KEY" -> throw encrypted(file);
        default -> {
          // EC PARAMETERS and certificates may sit beside the key.
        }
      }
    }
    throw new TlsFileException(file, "holds no PEM private key (-----BEGIN PRIVATE KEY-----)");
  }

  private static TlsFileException encrypted(Path file) {
    return new TlsFileException(
        file,
        "the private key is encrypted; the hub reads unencrypted keys only (openssl pkey -in KEY"
            + " -out PLAIN)");
  }

  private static PrivateKey pkcs8(Path file, byte[] der) throws TlsFileException {
    for (String algorithm : KEY_ALGORITHMS) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException | RuntimeException notThisOne) {
        // The next algorithm may read it.
      }
    }
    throw new TlsFileException(file, "the private key is malformed or of an unknown algorithm");
  }

  /**
   * The named curve of a SEC1 key: {@code SEQUENCE { version, privateKey OCTET STRING, [0]
   * parameters, [1] publicKey }}, whose parameters a PKCS#8 envelope must carry.
   */
  private static byte[] ecCurve(Path file, byte[] sec1) throws TlsFileException {
    try {
      return curveOf(sec1);
    } catch (IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
      throw new TlsFileException(file, "the EC private key is malformed");
    }
  }

  private static byte[] curveOf(byte[] sec1) {
    int[] sequence = element(sec1, 0);
    int at = sequence[1];
    int end = sequence[1] + sequence[2];
    while (at < end) {
      int[] field = element(sec1, at);
      if ((sec1[at] & 0xff) == 0xa0) {
        byte[] curve = new byte[field[2]];
        System.arraycopy(sec1, field[1], curve, 0, field[2]);
        return curve;
      }
      at = field[1] + field[2];
    }
    throw new IllegalArgumentException("no curve");
  }

  /** The DER element at {@code at}: {tag offset, content offset, content length}. */
  private static int[] element(byte[] der, int at) {
    if (at + 2 > der.length) {
      throw new IllegalArgumentException("truncated");
    }
    int length = der[at + 1] & 0xff;
    int content = at + 2;
    if (length > 0x80) {
      int bytes = length - 0x80;
      length = 0;
      for (int i = 0; i < bytes; i++) {
        length = (length << 8) | (der[content++] & 0xff);
      }
    }
    if (content + length > der.length) {
      throw new IllegalArgumentException("truncated");
    }
    return new int[] {at, content, length};
  }

  private static byte[] der(int tag, byte[] content) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(tag);
    int length = content.length;
    if (length < 0x80) {
      out.write(length);
    } else {
      int bytes = length > 0xffff ? 3 : length > 0xff ? 2 : 1;
      out.write(0x80 + bytes);
      for (int i = bytes - 1; i >= 0; i--) {
        out.write(length >>> (8 * i));
      }
    }
    out.writeBytes(content);
    return out.toByteArray();
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  private static List<Block> blocks(Path file) throws TlsFileException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.ISO_8859_1).replace("\r\n", "\n");
    } catch (IOException e) {
      throw new TlsFileException(file, "cannot be read: " + describe(e));
    }
    List<Block> blocks = new ArrayList<>();
    Matcher m = BLOCK.matcher(text);
    while (m.find()) {
      String body = m.group(2);
      // Traditional encrypted keys carry RFC 1421 headers (Proc-Type, DEK-Info) before a blank
      // line.
      String headers = "";
      int blank = body.indexOf("\n\n");
      if (body.contains(":") && blank >= 0) {
        headers = body.substring(0, blank);
        body = body.substring(blank);
      }
      try {
        blocks.add(new Block(m.group(1), headers, Base64.getMimeDecoder().decode(body)));
      } catch (IllegalArgumentException e) {
        throw new TlsFileException(file, "a " + m.group(1) + " block is not valid base64");
      }
    }
    return blocks;
  }

  private static String describe(IOException e) {
    return e instanceof java.nio.file.NoSuchFileException
        ? "no such file"
        : e instanceof java.nio.file.AccessDeniedException
            ? "permission denied"
            : e.getClass().getSimpleName() + " " + e.getMessage();
  }
}
