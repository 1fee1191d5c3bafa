package io.slime.agent;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.slime.agent.settings.AgentSettings;
import io.slime.shared.log.ResourceErrorFilter;
import io.slime.shared.net.Descriptors;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * The agents of one process: one per upstream in {@code slime.agent.upstreams}, each with {@code
 * slime.agent.num-worker} workers that dial out to the hub and keep reconnecting. This is what
 * {@code slime agent run} starts.
 */
public final class Agents implements AutoCloseable {
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

  /** Descriptors kept beyond the workers' own: health checks, DNS, logs. */
  private static final int RESERVED_DESCRIPTORS = 32;

  private final ActorSystem<Void> system;
  private final List<String> agentIds;

  private Agents(ActorSystem<Void> system, List<String> agentIds) {
    this.system = system;
    this.agentIds = agentIds;
  }

  /**
   * Starts one agent per upstream in slime.agent.upstreams, each with slime.agent.num-worker
   * workers, and returns at once (workers connect and reconnect in the background). Throws
   * com.typesafe.config.ConfigException naming the key on invalid settings, before starting
   * anything.
   */
  public static Agents start(Config config) {
    Config full = config.withFallback(ConfigFactory.defaultReference()).resolve();
    AgentSettings settings = AgentSettings.create(full);
    requireDescriptors(
        settings.numWorker() * settings.upstreams().size(),
        Descriptors.limit(),
        Descriptors.open());
    ResourceErrorFilter.install();
    List<String> ids = AgentId.resolve(settings);
    ActorSystem<Void> system =
        ActorSystem.create(Guardian.create(settings, ids), "slime-agent", full);
    return new Agents(system, ids);
  }

  /**
   * Each worker holds two descriptors, its hub socket and its upstream connection: refuses to start
   * workers that could not all connect ({@code limit} and {@code open} are -1 where unknown).
   */
  static void requireDescriptors(int workers, long limit, long open) {
    long needed = 2L * workers + RESERVED_DESCRIPTORS;
    if (limit >= 0 && open >= 0 && open + needed > limit) {
      throw new ConfigException.BadValue(
          "slime.agent.num-worker",
          workers
              + " worker(s) need about "
              + needed
              + " file descriptors (two each and "
              + RESERVED_DESCRIPTORS
              + " for health checks and logs), but the process may open "
              + limit
              + " (ulimit -n) and has "
              + open
              + " open; raise the limit or lower the number of workers");
    }
  }

  /** The id each agent presents to the hub, in the order of the upstreams. */
  public List<String> agentIds() {
    return agentIds;
  }

  /** Completes when the agents have stopped. */
  public CompletionStage<Done> terminated() {
    return system.getWhenTerminated();
  }

  /** Stops every worker (their hub connections and upstream calls end); blocks until stopped. */
  @Override
  public void close() {
    system.terminate();
    try {
      system
          .getWhenTerminated()
          .toCompletableFuture()
          .get(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
      throw new IllegalStateException("agents did not stop within " + CLOSE_TIMEOUT, e);
    }
  }
}
