package io.slime.hub.replicated;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.LWWMapKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;

/**
 * The operators' settings per agent id ({@link AgentControl}: drain, weight, limits). On a cluster
 * node they live in Distributed Data, so a change made at any node holds on all; on a node that
 * runs alone, in memory. Every change goes to {@code onChange} (which tells the dispatcher), whole.
 */
public final class AgentControls {

  public sealed interface Command {}

  /**
   * Changes one agent's settings with {@code change} (applied to its current ones, {@link
   * AgentControl#NONE} when it has none); {@code replyTo} hears the result once it is written.
   */
  public record Change(
      String agentId, UnaryOperator<AgentControl> change, ActorRef<AgentControl> replyTo)
      implements Command {}

  /** The current settings of every agent that has some. */
  public record Get(ActorRef<Map<String, AgentControl>> replyTo) implements Command {}

  private record Changed(Replicator.SubscribeResponse<LWWMap<String, AgentControl>> response)
      implements Command {}

  private record Written(ActorRef<AgentControl> replyTo, AgentControl value) implements Command {}

  private static final Key<LWWMap<String, AgentControl>> KEY =
      LWWMapKey.create("slime-agent-controls");
  private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(3);

  private AgentControls() {}

  public static Behavior<Command> clustered(Consumer<Map<String, AgentControl>> onChange) {
    return Behaviors.setup(
        context -> {
          SelfUniqueAddress self = DistributedData.get(context.getSystem()).selfUniqueAddress();
          Map<String, AgentControl> known = new HashMap<>();
          return DistributedData
              .<Command, LWWMap<String, AgentControl>>withReplicatorMessageAdapter(
                  replicator -> {
                    replicator.subscribe(KEY, Changed::new);
                    return Behaviors.receive(Command.class)
                        .onMessage(
                            Change.class,
                            m -> {
                              // Computed on the local replica, so the reply names what was written.
                              AgentControl value = apply(known, m);
                              replicator.askUpdate(
                                  replyTo ->
                                      new Replicator.Update<>(
                                          KEY,
                                          LWWMap.create(),
                                          new Replicator.WriteMajority(WRITE_TIMEOUT),
                                          replyTo,
                                          map ->
                                              value.isNone()
                                                  ? map.remove(self, m.agentId())
                                                  : map.put(self, m.agentId(), value)),
                                  // On a timeout the write still spreads from this node.
                                  response -> new Written(m.replyTo(), value));
                              return Behaviors.same();
                            })
                        .onMessage(
                            Changed.class,
                            m -> {
                              if (m.response()
                                  instanceof
                                  Replicator.Changed<LWWMap<String, AgentControl>> changed) {
                                known.clear();
                                known.putAll(changed.get(KEY).getEntries());
                                onChange.accept(Map.copyOf(known));
                              }
                              return Behaviors.same();
                            })
                        .onMessage(
                            Written.class,
                            m -> {
                              m.replyTo().tell(m.value());
                              return Behaviors.same();
                            })
                        .onMessage(Get.class, m -> answer(m, known))
                        .build();
                  });
        });
  }

  public static Behavior<Command> alone(Consumer<Map<String, AgentControl>> onChange) {
    return Behaviors.setup(
        context -> {
          Map<String, AgentControl> known = new HashMap<>();
          return Behaviors.receive(Command.class)
              .onMessage(
                  Change.class,
                  m -> {
                    AgentControl value = apply(known, m);
                    onChange.accept(Map.copyOf(known));
                    m.replyTo().tell(value);
                    return Behaviors.same();
                  })
              .onMessage(Get.class, m -> answer(m, known))
              .build();
        });
  }

  /** Applies a change to the settings known here; returns the agent's new settings. */
  private static AgentControl apply(Map<String, AgentControl> known, Change change) {
    AgentControl value =
        change.change().apply(known.getOrDefault(change.agentId(), AgentControl.NONE));
    if (value.isNone()) {
      known.remove(change.agentId());
    } else {
      known.put(change.agentId(), value);
    }
    return value;
  }

  private static Behavior<Command> answer(Get get, Map<String, AgentControl> known) {
    get.replyTo().tell(Map.copyOf(known));
    return Behaviors.same();
  }
}
