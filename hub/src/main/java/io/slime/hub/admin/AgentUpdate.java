package io.slime.hub.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.slime.hub.replicated.AgentControl;
import io.slime.shared.agent.AgentTerms;
import java.util.LinkedHashMap;
import java.util.Map;

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

  /** What the body shape is, for an operator who sent another. */
  static final JsonBody.Shape SHAPE =
      new JsonBody.Shape(
          "send a JSON object with any of weight, rpm, bpm, draining",
          "use weight, rpm, bpm, draining");

  /**
   * The body as it came: each field is null when left out and a JSON null when sent as null, which
   * is how a cleared override differs from one left alone. Any other field is refused.
   */
  record Body(JsonNode weight, JsonNode rpm, JsonNode bpm, JsonNode draining) {}

  /**
   * Reads an update.
   *
   * @throws IllegalArgumentException saying which field is wrong and why
   */
  static AgentUpdate of(Body body) {
    if (body == null) {
      throw new IllegalArgumentException(SHAPE.expected());
    }
    Long weight = number(body.weight(), "weight", AgentTerms.MAX_WEIGHT);
    Boolean draining = null;
    if (body.draining() != null) {
      if (!body.draining().isBoolean()) {
        throw new IllegalArgumentException("draining must be true or false");
      }
      draining = body.draining().asBoolean();
    }
    return new AgentUpdate(
        body.weight() != null,
        weight == null ? null : weight.intValue(),
        body.rpm() != null,
        number(body.rpm(), "rpm", Long.MAX_VALUE),
        body.bpm() != null,
        number(body.bpm(), "bpm", Long.MAX_VALUE),
        draining);
  }

  private static Long number(JsonNode value, String field, long max) {
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
  Map<String, Object> asFields() {
    Map<String, Object> out = new LinkedHashMap<>();
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
