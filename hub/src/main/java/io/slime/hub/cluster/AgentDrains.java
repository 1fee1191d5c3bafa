package io.slime.hub.cluster;

import io.slime.hub.dispatch.Dispatcher;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.ORSet;
import org.apache.pekko.cluster.ddata.ORSetKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;

/**
 * The ids of agents being drained: their workers finish what they carry and take nothing new. On
 * a cluster node the set lives in Distributed Data, so a drain set at any node holds on all; on a
 * node that runs alone, in memory. Every change goes to the dispatcher.
 */
public final class AgentDrains {

  public sealed interface Command {}

  /** Starts ({@code on}) or ends draining an agent; {@code replyTo} hears once it is written. */
  public record SetDrain(String agentId, boolean on, ActorRef<Done> replyTo) implements Command {}

  private record Changed(Replicator.SubscribeResponse<ORSet<String>> response)
      implements Command {}

  private record Written(ActorRef<Done> replyTo) implements Command {}

  private static final Key<ORSet<String>> KEY = ORSetKey.create("slime-drained-agents");
  private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(3);

  private AgentDrains() {}

  public static Behavior<Command> clustered(ActorRef<Dispatcher.Command> dispatcher) {
    return Behaviors.setup(
        context -> {
          SelfUniqueAddress self = DistributedData.get(context.getSystem()).selfUniqueAddress();
          return DistributedData.<Command, ORSet<String>>withReplicatorMessageAdapter(
              replicator -> {
                replicator.subscribe(KEY, Changed::new);
                return Behaviors.receive(Command.class)
                    .onMessage(
                        SetDrain.class,
                        m -> {
                          replicator.askUpdate(
                              replyTo ->
                                  new Replicator.Update<>(
                                      KEY,
                                      ORSet.create(),
                                      new Replicator.WriteMajority(WRITE_TIMEOUT),
                                      replyTo,
                                      set ->
                                          m.on()
                                              ? set.add(self, m.agentId())
                                              : set.remove(self, m.agentId())),
                              // On a timeout the write still spreads from this node.
                              response -> new Written(m.replyTo()));
                          return Behaviors.same();
                        })
                    .onMessage(
                        Changed.class,
                        m -> {
                          if (m.response() instanceof Replicator.Changed<ORSet<String>> changed) {
                            dispatcher.tell(
                                new Dispatcher.AgentsDrained(
                                    Set.copyOf(changed.get(KEY).getElements())));
                          }
                          return Behaviors.same();
                        })
                    .onMessage(
                        Written.class,
                        m -> {
                          m.replyTo().tell(Done.getInstance());
                          return Behaviors.same();
                        })
                    .build();
              });
        });
  }

  public static Behavior<Command> alone(ActorRef<Dispatcher.Command> dispatcher) {
    Set<String> drained = new HashSet<>();
    return Behaviors.receive(Command.class)
        .onMessage(
            SetDrain.class,
            m -> {
              if (m.on()) {
                drained.add(m.agentId());
              } else {
                drained.remove(m.agentId());
              }
              dispatcher.tell(new Dispatcher.AgentsDrained(Set.copyOf(drained)));
              m.replyTo().tell(Done.getInstance());
              return Behaviors.same();
            })
        .build();
  }
}
