package io.slime.shared.token;

import io.slime.shared.agent.AgentTerms;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What an agent token grants, as sealed by {@link TokenCodec} and printed by {@code slime hub
 * register}.
 *
 * @param id random positive id, so a token can be told apart (and later revoked) without its name
 * @param name human-readable name for logs and the admin view
 * @param expiresAt when the token stops being accepted; {@code null} means never
 * @param scopes Slime-Scope values the agent's workers accept; with none, they take only requests
 *     that carry no Slime-Scope
 * @param scopePaths paths the agent's workers accept (exact, or a prefix when ending in {@code *});
 *     empty means every path
 * @param terms weight, labels and limits the operator set; they win over the agent's own
 */
public record AgentToken(
    long id,
    String name,
    Instant expiresAt,
    List<String> scopes,
    List<String> scopePaths,
    AgentTerms terms) {

  public AgentToken {
    Objects.requireNonNull(name, "name");
    scopes = scopes == null ? List.of() : List.copyOf(scopes);
    scopePaths = scopePaths == null ? List.of() : List.copyOf(scopePaths);
    terms = terms == null ? AgentTerms.NONE : terms;
  }

  /** A token that sets no traffic terms. */
  public AgentToken(
      long id, String name, Instant expiresAt, List<String> scopes, List<String> scopePaths) {
    this(id, name, expiresAt, scopes, scopePaths, AgentTerms.NONE);
  }

  /** True when the token has an expiry and {@code now} is at or past it. */
  public boolean isExpired(Instant now) {
    return expiresAt != null && !now.isBefore(expiresAt);
  }
}
