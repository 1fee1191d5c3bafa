package io.slime.hub.policy;

import java.nio.charset.StandardCharsets;
import java.util.Collection;

/**
 * Which agent a client IP belongs to, for ip-hash: the agent whose id hashes highest with the IP.
 * When an agent joins or leaves, only the clients of that agent move (unlike a hash modulo the
 * agent count, which reshuffles nearly everyone).
 */
public final class RendezvousHash {
  private RendezvousHash() {}

  /** The owner of {@code key} among {@code agentIds}, or null when there are none. */
  public static String owner(String key, Collection<String> agentIds) {
    String best = null;
    long bestScore = 0;
    for (String agentId : agentIds) {
      long score = mix(hash(key) ^ hash(agentId) * 0x9E3779B97F4A7C15L);
      if (best == null
          || Long.compareUnsigned(score, bestScore) > 0
          || (score == bestScore && agentId.compareTo(best) < 0)) {
        best = agentId;
        bestScore = score;
      }
    }
    return best;
  }

  /** FNV-1a over the UTF-8 bytes: stable across JVMs, so every node agrees. */
  private static long hash(String s) {
    long h = 0xcbf29ce484222325L;
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    return h;
  }

  /** SplitMix64's finaliser: spreads nearby inputs over the whole range. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
