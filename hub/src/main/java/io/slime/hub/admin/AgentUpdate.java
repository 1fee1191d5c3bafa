package io.slime.hub.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.slime.hub.replicated.AgentControl;
import io.slime.shared.agent.AgentTerms;
import java.util.Iterator;
import java.util.Set;

/**
 * The body of {@code PUT /_slime/api/v1/agents/{id}}: the fields given change, those left out stay;
 * a null clears an override, so the token's or agent's own value holds again.
 */
record AgentUpdate(
    boolean setsWeight,
    Integer weight,
    boolean setsRpm,
    Long rpm,
    boolean setsBpm,
    Long bpm,
    Boolean draining) {

  private static final Set<String> FIELDS = Set.of("weight", "rpm", "bpm", "draining");

  /**
   * Reads an update.
   *
   * @throws IllegalArgumentException saying which field is wrong and why
   */
  static AgentUpdate parse(JsonNode json) {
    if (json == null || !json.isObject()) {
      throw new IllegalArgumentException(
          "send a JSON object with any of weight, rpm, bpm, draining");
    }
    for (Iterator<String> it = json.fieldNames(); it.hasNext(); ) {
      String field = it.next();
      if (!FIELDS.contains(field)) {
        throw new IllegalArgumentException(
            "unknown field '" + field + "'; use weight, rpm, bpm, draining");
      }
    }
    Long weight = number(json, "weight", AgentTerms.MAX_WEIGHT);
    Boolean draining = null;
    if (json.has("draining")) {
      if (!json.get("draining").isBoolean()) {
        throw new IllegalArgumentException("draining must be true or false");
      }
      draining = json.get("draining").asBoolean();
    }
    return new AgentUpdate(
        json.has("weight"),
        weight == null ? null : weight.intValue(),
        json.has("rpm"),
        number(json, "rpm", Long.MAX_VALUE),
        json.has("bpm"),
        number(json, "bpm", Long.MAX_VALUE),
        draining);
  }

  private static Long number(JsonNode json, String field, long max) {
    JsonNode value = json.get(field);
    if (value == null || value.isNull()) {
      return null;
    }
    if (!value.canConvertToExactIntegral() || value.asLong() < 0 || value.asLong() > max) {
      throw new IllegalArgumentException(
          field + " must be a whole number from 0 to " + max + ", or null to clear it");
    }
    return value.asLong();
  }

  /** The fields the update sets, for the log. */
  java.util.Map<String, Object> asFields() {
    java.util.Map<String, Object> out = new java.util.LinkedHashMap<>();
    if (setsWeight) {
      out.put("weight", weight);
    }
    if (setsRpm) {
      out.put("rpm", rpm);
    }
    if (setsBpm) {
      out.put("bpm", bpm);
    }
    if (draining != null) {
      out.put("draining", draining);
    }
    return out;
  }

  AgentControl applyTo(AgentControl current) {
    return new AgentControl(
        setsWeight ? weight : current.weight(),
        setsRpm ? rpm : current.rpm(),
        setsBpm ? bpm : current.bpm(),
        draining != null ? draining : current.draining());
  }
}
