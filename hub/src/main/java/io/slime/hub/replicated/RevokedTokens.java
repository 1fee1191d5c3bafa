package io.slime.hub.replicated;

import java.util.HashSet;
import java.util.Set;

/** The revoked token ids as this node knows them: read at every agent upgrade, so lock-free. */
public final class RevokedTokens {
  private volatile Set<Long> ids = Set.of();

  public boolean contains(long tokenId) {
    return ids.contains(tokenId);
  }

  void set(Set<Long> all) {
    ids = Set.copyOf(all);
  }

  /** The current ids plus one. */
  Set<Long> with(long tokenId) {
    Set<Long> next = new HashSet<>(ids);
    next.add(tokenId);
    return next;
  }
}
