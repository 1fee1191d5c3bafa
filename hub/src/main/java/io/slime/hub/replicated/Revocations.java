package io.slime.hub.replicated;

import java.time.Duration;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ddata.GSet;
import org.apache.pekko.cluster.ddata.GSetKey;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;

/**
 * The ids of revoked agent tokens. On a cluster node they live in Distributed Data (a grow-only
 * set, spread to every node within seconds), on a node that runs alone in memory. Every change goes
 * to the {@link RevokedTokens} the upgrade path reads, and to {@code onRevoked} (the dispatcher,
 * which disconnects live workers that use a revoked token: it only tells it, on this actor's
 * thread).
 */
public final class Revocations {

  public sealed interface Command {}

  /**
   * Revokes a token id; {@code replyTo} hears once a majority of nodes has it (or it timed out).
   */
  public record Revoke(long tokenId, ActorRef<Done> replyTo) implements Command {}

  private record Changed(Replicator.SubscribeResponse<GSet<Long>> response) implements Command {}

  private record Updated(ActorRef<Done> replyTo) implements Command {}

  private static final Key<GSet<Long>> KEY = GSetKey.create("slime-revoked-tokens");
  private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(3);

  private Revocations() {}

  public static Behavior<Command> clustered(RevokedTokens revoked, Consumer<Set<Long>> onRevoked) {
    return Behaviors.setup(
        context ->
            DistributedData.<Command, GSet<Long>>withReplicatorMessageAdapter(
                replicator -> {
                  replicator.subscribe(KEY, Changed::new);
                  return Behaviors.receive(Command.class)
                      .onMessage(Revoke.class, m -> onRevoke(replicator, m))
                      .onMessage(
                          Changed.class,
                          m -> {
                            if (m.response() instanceof Replicator.Changed<GSet<Long>> changed) {
                              apply(changed.get(KEY).getElements(), revoked, onRevoked);
                            }
                            return Behaviors.same();
                          })
                      .onMessage(
                          Updated.class,
                          m -> {
                            m.replyTo().tell(Done.getInstance());
                            return Behaviors.same();
                          })
                      .build();
                }));
  }

  public static Behavior<Command> alone(RevokedTokens revoked, Consumer<Set<Long>> onRevoked) {
    return Behaviors.receive(Command.class)
        .onMessage(
            Revoke.class,
            m -> {
              apply(revoked.with(m.tokenId()), revoked, onRevoked);
              m.replyTo().tell(Done.getInstance());
              return Behaviors.same();
            })
        .build();
  }

  private static Behavior<Command> onRevoke(
      ReplicatorMessageAdapter<Command, GSet<Long>> replicator, Revoke revoke) {
    replicator.askUpdate(
        replyTo ->
            new Replicator.Update<>(
                KEY,
                GSet.create(),
                new Replicator.WriteMajority(WRITE_TIMEOUT),
                replyTo,
                set -> set.add(revoke.tokenId())),
        // On a timeout the write still spreads from this node; the caller need not wait longer.
        response -> new Updated(revoke.replyTo()));
    return Behaviors.same();
  }

  private static void apply(Set<Long> ids, RevokedTokens revoked, Consumer<Set<Long>> onRevoked) {
    revoked.set(ids);
    onRevoked.accept(Set.copyOf(ids));
  }
}
