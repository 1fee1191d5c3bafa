package io.slime.hub.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import org.junit.jupiter.api.Test;

class ConnectionLimitTest {
  @Test
  void shouldSizeAutoFromTheDescriptorLimit() {
    ConnectionLimit limit = ConnectionLimit.size(0, 64, 1024, 100);
    assertEquals(1024 - 100 - 64 - ConnectionLimit.OVERFLOW, limit.max());
    assertFalse(limit.capped());
    assertTrue(limit.describe().contains("descriptor limit 1024"), limit.describe());
  }

  @Test
  void shouldCapAConfiguredNumberThatDoesNotFit() {
    ConnectionLimit limit = ConnectionLimit.size(100_000, 64, 1024, 100);
    assertEquals(1024 - 100 - 64 - ConnectionLimit.OVERFLOW, limit.max());
    assertTrue(limit.capped());
    assertTrue(limit.describe().contains("capped"), limit.describe());
  }

  @Test
  void shouldKeepAConfiguredNumberThatFits() {
    assertEquals(500, ConnectionLimit.size(500, 64, 100_000, 100).max());
  }

  @Test
  void shouldRefuseToStartWithoutRoomForConnections() {
    assertThrows(ConfigException.BadValue.class, () -> ConnectionLimit.size(0, 64, 128, 100));
  }

  @Test
  void shouldFallBackWhenTheLimitIsUnknown() {
    assertEquals(300, ConnectionLimit.size(300, 64, -1, -1).max());
    assertTrue(ConnectionLimit.size(0, 64, -1, -1).max() > 0);
  }
}
