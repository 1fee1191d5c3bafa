package io.slime.hub;

import com.typesafe.config.Config;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;

/** TEMPORARY STUB: the real hub replaces this; the signatures are the contract. */
public final class Hub implements AutoCloseable {
  /**
   * Starts a hub from a merged config (slime.hub.* plus any pekko.*) and returns once it is bound.
   * Throws com.typesafe.config.ConfigException naming the key on invalid settings, and
   * IllegalStateException when the port cannot be bound.
   */
  public static Hub start(Config config) {
    throw new UnsupportedOperationException("hub not built yet");
  }

  /** The address the hub is bound to (the real port when configured with port 0). */
  public InetSocketAddress address() {
    throw new UnsupportedOperationException();
  }

  /** Completes when the hub has stopped, by close() or by a JVM shutdown. */
  public CompletionStage<Done> terminated() {
    throw new UnsupportedOperationException();
  }

  /** Stops gracefully; blocks until stopped. */
  @Override
  public void close() {}
}
