package io.slime.hub.peer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntConsumer;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * Makes a limit cluster-wide ({@code --concurrent N}, the per-client rate): it is split among the
 * nodes that are up, and each node's share is set again whenever a node joins or leaves.
 */
public final class ConcurrencyShare {
  private ConcurrencyShare() {}

  /**
   * Node {@code index}'s share of {@code total} slots among {@code nodes}: an even split, with the
   * remainder going to the first nodes, and at least 1, so no node refuses everything.
   */
  public static int share(int total, int nodes, int index) {
    if (nodes <= 0) {
      return total;
    }
    return Math.max(1, total / nodes + (index < total % nodes ? 1 : 0));
  }

  /**
   * Watches membership and tells {@code resize} this node's share of {@code total}; {@code what}
   * names the limit in the log.
   */
  public static Behavior<ClusterEvent.MemberEvent> create(
      String what, int total, IntConsumer resize) {
    return Behaviors.setup(
        context -> {
          Cluster cluster = Cluster.get(context.getSystem());
          cluster
              .subscriptions()
              .tell(Subscribe.create(context.getSelf(), ClusterEvent.MemberEvent.class));
          int[] current = {-1};
          return Behaviors.receive(ClusterEvent.MemberEvent.class)
              .onAnyMessage(
                  event -> {
                    Address self = cluster.selfMember().address();
                    List<Address> up = new ArrayList<>();
                    for (Member member : cluster.state().getMembers()) {
                      if (member.status() == MemberStatus.up() || member.address().equals(self)) {
                        up.add(member.address());
                      }
                    }
                    up.sort(Comparator.comparing(Address::toString));
                    int share = share(total, up.size(), up.indexOf(self));
                    if (share != current[0]) {
                      current[0] = share;
                      context
                          .getLog()
                          .info(
                              "{} {}: this node admits {} of them ({} node(s) up)",
                              what,
                              total,
                              share,
                              up.size());
                      resize.accept(share);
                    }
                    return Behaviors.same();
                  })
              .build();
        });
  }
}
