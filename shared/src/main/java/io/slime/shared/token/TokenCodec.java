package io.slime.shared.token;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.slime.shared.token.InvalidTokenException.Kind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals {@link AgentToken}s into opaque strings and opens them again, with a key derived from the
 * hub's secret.
 *
 * <pre>
 * token = base64url-without-padding( version(1) | nonce(12) | AES-256-GCM(json(AgentToken)) + tag(16) )
 * key   = PBKDF2WithHmacSHA256(secret, salt "slime/agent-token/v1", 100000 iterations, 256 bits)
 * AAD   = "slime-agent-token-v1"
 * </pre>
 *
 * Whoever holds the secret can mint tokens, so the secret is stretched rather than padded: a short
 * secret still yields a full-strength key that is slow to guess. Derivation costs tens of
 * milliseconds, so make one codec at start-up and share it; it is thread-safe.
 */
public final class TokenCodec {

  static final byte VERSION = 1;
  private static final byte[] SALT = "slime/agent-token/v1".getBytes(StandardCharsets.UTF_8);
  private static final int ITERATIONS = 100_000;
  private static final int KEY_BITS = 256;
  private static final byte[] AAD = "slime-agent-token-v1".getBytes(StandardCharsets.UTF_8);
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final int MIN_BYTES = 1 + NONCE_BYTES + TAG_BITS / 8 + 2; // "{}" at least
  // Far above any real token; refuses absurd input before decoding it.
  private static final int MAX_CHARS = 16 * 1024;

  private static final ObjectMapper JSON =
      JsonMapper.builder()
          .addModule(new JavaTimeModule())
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          // Newer hubs may add fields; an older hub still reads what it knows.
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .build();

  private final SecretKeySpec key;
  private final SecureRandom random = new SecureRandom();

  private TokenCodec(SecretKeySpec key) {
    this.key = key;
  }

  /**
   * A codec whose key is derived from {@code secret}.
   *
   * @throws IllegalArgumentException when the secret is empty
   */
  public static TokenCodec forSecret(String secret) {
    Objects.requireNonNull(secret, "secret");
    if (secret.isEmpty()) {
      throw new IllegalArgumentException("secret must not be empty");
    }
    PBEKeySpec spec = new PBEKeySpec(secret.toCharArray(), SALT, ITERATIONS, KEY_BITS);
    try {
      byte[] derived =
          SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
      return new TokenCodec(new SecretKeySpec(derived, "AES"));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("PBKDF2WithHmacSHA256 unavailable in this JVM", e);
    } finally {
      spec.clearPassword();
    }
  }

  /** Seals a token into a base64url string (no padding) with a fresh random nonce. */
  public String seal(AgentToken token) {
    Objects.requireNonNull(token, "token");
    byte[] nonce = new byte[NONCE_BYTES];
    random.nextBytes(nonce);
    try {
      byte[] plain = JSON.writeValueAsBytes(token);
      byte[] sealed = cipher(Cipher.ENCRYPT_MODE, nonce).doFinal(plain);
      ByteBuffer out = ByteBuffer.allocate(1 + NONCE_BYTES + sealed.length);
      out.put(VERSION).put(nonce).put(sealed);
      return Base64.getUrlEncoder().withoutPadding().encodeToString(out.array());
    } catch (JsonProcessingException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot seal agent token", e);
    }
  }

  /**
   * Opens a token sealed with the same secret. Does not check expiry: see {@link #openValid}.
   *
   * @throws InvalidTokenException when the token is malformed, forged or tampered with, or
   *     unreadable
   */
  public AgentToken open(String token) throws InvalidTokenException {
    if (token == null || token.isBlank()) {
      throw new InvalidTokenException(Kind.MALFORMED, "malformed token: empty");
    }
    String trimmed = token.strip();
    if (trimmed.length() > MAX_CHARS) {
      throw new InvalidTokenException(Kind.MALFORMED, "malformed token: too long");
    }
    byte[] bytes;
    try {
      bytes = Base64.getUrlDecoder().decode(trimmed);
    } catch (IllegalArgumentException e) {
      throw new InvalidTokenException(Kind.MALFORMED, "malformed token: not base64url");
    }
    if (bytes.length < MIN_BYTES) {
      throw new InvalidTokenException(Kind.MALFORMED, "malformed token: too short");
    }
    if (bytes[0] != VERSION) {
      throw new InvalidTokenException(
          Kind.MALFORMED, "malformed token: unknown version " + (bytes[0] & 0xff));
    }
    byte[] plain;
    try {
      plain =
          cipher(Cipher.DECRYPT_MODE, Arrays.copyOfRange(bytes, 1, 1 + NONCE_BYTES))
              .doFinal(bytes, 1 + NONCE_BYTES, bytes.length - 1 - NONCE_BYTES);
    } catch (AEADBadTagException e) {
      throw new InvalidTokenException(
          Kind.FORGED, "token sealed with another secret or tampered with");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES/GCM unavailable in this JVM", e);
    }
    try {
      return JSON.readValue(plain, AgentToken.class);
    } catch (IOException | RuntimeException e) {
      throw new InvalidTokenException(Kind.UNREADABLE, "unreadable token payload");
    }
  }

  /**
   * Opens a token and also refuses it when expired at {@code now}.
   *
   * @throws InvalidTokenException as {@link #open}, or with kind EXPIRED
   */
  public AgentToken openValid(String token, Instant now) throws InvalidTokenException {
    AgentToken opened = open(token);
    if (opened.isExpired(now)) {
      throw new InvalidTokenException(Kind.EXPIRED, "token expired at " + opened.expiresAt());
    }
    return opened;
  }

  private Cipher cipher(int mode, byte[] nonce) throws GeneralSecurityException {
    // Cipher instances are stateful and not thread-safe: one per call.
    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
    cipher.init(mode, key, new GCMParameterSpec(TAG_BITS, nonce));
    cipher.updateAAD(AAD);
    return cipher;
  }
}
