package io.slime.hub.admin;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Set;

/** The hub's effective {@code slime.hub} settings as JSON, with every secret replaced. */
final class EffectiveConfig {
  private static final Set<String> SECRETS = Set.of("secret", "app-password", "admin-token");
  private static final String REDACTED = "<redacted>";

  private EffectiveConfig() {}

  static Map<String, Object> of(Config config) {
    String json =
        config.getConfig("slime.hub").root().render(ConfigRenderOptions.concise().setJson(true));
    try {
      Map<String, Object> hub =
          new ObjectMapper().readValue(json, new TypeReference<Map<String, Object>>() {});
      for (String key : SECRETS) {
        if (hub.get(key) instanceof String value && !value.isEmpty()) {
          hub.put(key, REDACTED);
        }
      }
      return Map.of("slime", Map.of("hub", hub));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
