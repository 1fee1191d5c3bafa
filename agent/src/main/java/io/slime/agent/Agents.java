package io.slime.agent;

import com.typesafe.config.Config;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;

/** TEMPORARY STUB: the real agent replaces this; the signatures are the contract. */
public final class Agents implements AutoCloseable {
  /**
   * Starts one agent per upstream in slime.agent.upstreams, each with slime.agent.num-worker
   * workers, and returns at once (workers connect and reconnect in the background). Throws
   * com.typesafe.config.ConfigException naming the key on invalid settings.
   */
  public static Agents start(Config config) {
    throw new UnsupportedOperationException("agent not built yet");
  }

  /** Completes when the agents have stopped. */
  public CompletionStage<Done> terminated() {
    throw new UnsupportedOperationException();
  }

  @Override
  public void close() {}
}
