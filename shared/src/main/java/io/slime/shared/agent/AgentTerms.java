package io.slime.shared.agent;

import java.util.Map;
import java.util.TreeMap;

/**
 * What an agent asks of the hub's traffic policy: its weight, its labels, and the most requests and
 * bytes per minute it takes. Each field may be unset (null): the token's terms win over the agent's
 * own, which win over the hub's defaults; the admin API overrides them all at run time.
 *
 * @param weight relative share for weighted balancing, at least 0
 * @param labels matched by {@code Slime-Select}; merged key by key
 * @param rpm most requests per minute, 0 for no limit
 * @param bpm most request and response body bytes per minute, 0 for no limit
 */
public record AgentTerms(Integer weight, Map<String, String> labels, Long rpm, Long bpm) {
  public static final AgentTerms NONE = new AgentTerms(null, Map.of(), null, null);

  /** Largest weight accepted anywhere: keeps weighted sums far from overflow. */
  public static final int MAX_WEIGHT = 10_000;

  public AgentTerms {
    labels = labels == null ? Map.of() : Map.copyOf(labels);
    if (weight != null && (weight < 0 || weight > MAX_WEIGHT)) {
      throw new IllegalArgumentException("weight must be between 0 and " + MAX_WEIGHT);
    }
    if (rpm != null && rpm < 0) {
      throw new IllegalArgumentException("rpm must not be negative");
    }
    if (bpm != null && bpm < 0) {
      throw new IllegalArgumentException("bpm must not be negative");
    }
  }

  /** These terms, with {@code fallback}'s where these are unset; labels merged, these winning. */
  public AgentTerms over(AgentTerms fallback) {
    Map<String, String> merged = new TreeMap<>(fallback.labels);
    merged.putAll(labels);
    return new AgentTerms(
        weight != null ? weight : fallback.weight,
        merged,
        rpm != null ? rpm : fallback.rpm,
        bpm != null ? bpm : fallback.bpm);
  }
}
