package io.slime.shared.token;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slime.shared.agent.AgentTerms;
import io.slime.shared.token.InvalidTokenException.Kind;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TokenCodecTest {

  // Key derivation is deliberately slow: derive once per secret for the whole class.
  private static final TokenCodec CODEC = TokenCodec.forSecret("correct horse battery staple");
  private static final TokenCodec OTHER = TokenCodec.forSecret("another secret");

  private static final AgentToken TOKEN =
      new AgentToken(
          42L,
          "brave-otter",
          Instant.parse("2030-01-02T03:04:05Z"),
          List.of("gpu", "chat"),
          List.of("/v1/chat", "/v1/embeddings"));

  @Test
  void shouldRoundTrip() throws Exception {
    String sealed = CODEC.seal(TOKEN);

    assertTrue(sealed.matches("[A-Za-z0-9_-]+"), "base64url without padding: " + sealed);
    assertEquals(TOKEN, CODEC.open(sealed));
  }

  @Test
  void shouldUseAFreshNonceEachTime() {
    assertNotEquals(CODEC.seal(TOKEN), CODEC.seal(TOKEN));
  }

  @Test
  void shouldRoundTripTheOperatorsTermsAndReadATokenWithoutThemAsSettingNone() throws Exception {
    AgentToken withTerms =
        new AgentToken(
            9L,
            "gpu1",
            null,
            List.of(),
            List.of(),
            new AgentTerms(3, Map.of("model", "llama3", "gpu", "a100"), 60L, 1_000_000L));

    assertEquals(withTerms, CODEC.open(CODEC.seal(withTerms)));
    assertEquals(AgentTerms.NONE, CODEC.open(CODEC.seal(TOKEN)).terms());
  }

  @Test
  void shouldRoundTripWithoutExpiryAndWithEmptyScopes() throws Exception {
    AgentToken forever = new AgentToken(7L, "calm-yak", null, List.of(), null);

    AgentToken opened = CODEC.openValid(CODEC.seal(forever), Instant.MAX);

    assertEquals(forever, opened);
    assertEquals(List.of(), opened.scopes());
    assertEquals(List.of(), opened.scopePaths());
    assertFalse(opened.isExpired(Instant.MAX));
  }

  @Test
  void shouldRefuseGarbage() {
    assertKind(Kind.MALFORMED, "not a token!");
    assertKind(Kind.MALFORMED, "");
    assertKind(Kind.MALFORMED, "abcd");
    String unknownVersion =
        Base64.getUrlEncoder()
            .withoutPadding()
            .encodeToString(
                new byte[] {
                  2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                  0, 0, 0, 0, 0, 0, 0, 0, 0
                });
    InvalidTokenException e = assertKind(Kind.MALFORMED, unknownVersion);
    assertTrue(e.reason().contains("version 2"), e.reason());
  }

  @Test
  void shouldRefuseATokenSealedWithAnotherSecret() {
    InvalidTokenException e = assertKind(Kind.FORGED, OTHER.seal(TOKEN));
    assertTrue(e.reason().contains("another secret"), e.reason());
  }

  @Test
  void shouldRefuseAFlippedByte() {
    byte[] bytes = Base64.getUrlDecoder().decode(CODEC.seal(TOKEN));
    for (int i : new int[] {1, 13, bytes.length / 2, bytes.length - 1}) {
      byte[] copy = bytes.clone();
      copy[i] ^= 0x01;
      assertKind(Kind.FORGED, Base64.getUrlEncoder().withoutPadding().encodeToString(copy));
    }
  }

  @Test
  void shouldRefuseAnExpiredTokenOnlyInOpenValid() throws Exception {
    Instant expiry = Instant.parse("2024-01-01T00:00:00Z");
    String sealed = CODEC.seal(new AgentToken(1L, "old-owl", expiry, List.of(), List.of()));

    assertEquals(expiry, CODEC.open(sealed).expiresAt());
    assertEquals("old-owl", CODEC.openValid(sealed, expiry.minusSeconds(1)).name());
    InvalidTokenException e =
        assertThrows(InvalidTokenException.class, () -> CODEC.openValid(sealed, expiry));
    assertEquals(Kind.EXPIRED, e.kind());
    assertEquals("token expired at 2024-01-01T00:00:00Z", e.reason());
  }

  @Test
  void shouldNeverPutTheTokenInTheReason() {
    String sealed = OTHER.seal(TOKEN);
    InvalidTokenException e = assertKind(Kind.FORGED, sealed);
    assertFalse(e.getMessage().contains(sealed.substring(0, 10)));
  }

  @Test
  void shouldRefuseAnEmptySecret() {
    assertThrows(IllegalArgumentException.class, () -> TokenCodec.forSecret(""));
  }

  private static InvalidTokenException assertKind(Kind kind, String token) {
    InvalidTokenException e = assertThrows(InvalidTokenException.class, () -> CODEC.open(token));
    assertEquals(kind, e.kind(), e.reason());
    return e;
  }
}
