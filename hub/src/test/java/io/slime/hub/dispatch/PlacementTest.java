package io.slime.hub.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.slime.hub.health.PassiveHealth;
import io.slime.hub.model.Acceptance;
import io.slime.hub.model.Demand;
import io.slime.hub.model.Job;
import io.slime.hub.model.ProxiedRequest;
import io.slime.hub.model.RequestTraits;
import io.slime.hub.model.WorkerProfile;
import io.slime.hub.policy.Balancer;
import io.slime.hub.policy.Policy;
import io.slime.hub.stats.AgentTrafficRegistry;
import io.slime.hub.worker.AgentWorker;
import io.slime.shared.agent.AgentTerms;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.junit.jupiter.api.Test;

/** Placement on its own: a pool and a board filled by hand, no actors. */
class PlacementTest {
  private final PeerBoard board = new PeerBoard(Duration.ZERO);
  private final Pool pool =
      new Pool(
          new AgentTerms(1, null, 0L, 0L),
          PassiveHealth.Settings.OFF,
          new AgentTrafficRegistry(),
          board);
  private final Placement alone =
      new Placement(pool, board, new NoPeers("here"), new Balancer(new Random(1)), null);

  @Test
  void shouldPickTheLongestIdleWorkerThatAcceptsTheRequest() {
    FakeRef<AgentWorker.Command> a = idle(profile("a", 0, List.of()), 1);
    FakeRef<AgentWorker.Command> b = idle(profile("b", 0, List.of()), 2);

    assertEquals(a, alone.choose(request("/v1", null), null, now()).worker());
    assertEquals(b, alone.choose(request("/v1", null), "a", now()).worker(), "a is avoided");
  }

  @Test
  void shouldGiveAScopedRequestOnlyToAWorkerOfThatScope() {
    idle(profile("plain", 0, List.of()), 1);
    FakeRef<AgentWorker.Command> gpu = idle(profile("gpu", 0, List.of("gpu")), 2);

    assertEquals(gpu, alone.choose(request("/v1", "gpu"), null, now()).worker());
    assertFalse(alone.choose(request("/v1", "tpu"), null, now()).found());
  }

  @Test
  void shouldFindNothingWhenEveryWorkerIsBusy() {
    FakeRef<AgentWorker.Command> a = idle(profile("a", 0, List.of()), 1);
    pool.markBusy(a);

    assertFalse(alone.choose(request("/v1", null), null, now()).found());
    assertRefused(alone.unserved(Demand.of(null, "/v1"), now()), 503, "no-idle-worker");
  }

  @Test
  void shouldRefuseNoAgentWhenNoWorkerIsConnectedAnywhere() {
    assertRefused(alone.unserved(Demand.of(null, "/v1"), now()), 503, "no-agent");
  }

  @Test
  void shouldRefuseNoMatchingWorkerAndNameTheLabelsNobodyHas() {
    idle(profile("a", 0, List.of()), 1);

    assertRefused(alone.unserved(Demand.of("tpu", "/v1"), now()), 503, "no-matching-worker");
    Demand selecting = new Demand(null, "/v1", Map.of("model", "llama"), null);
    HttpResponse labels = alone.unserved(selecting, now());
    assertRefused(labels, 503, "no-matching-worker");
  }

  @Test
  void shouldChooseAnIdleAgentAtAnotherNodeOnlyThroughPeers() {
    FakeRef<Dispatcher.Command> peer = new FakeRef<>("peer");
    board.update(peer, List.of(summary("far", 1)), List.of(), 0, now());
    Placement clustered =
        new Placement(pool, board, new BoardPeers(board), new Balancer(new Random(1)), null);

    Placement.Pick pick = clustered.choose(request("/v1", null), null, now());
    assertEquals(Placement.Pick.remote(peer, "far"), pick);
    assertFalse(
        alone.choose(request("/v1", null), null, now()).found(), "alone: the board lends nothing");
    assertRefused(alone.unserved(Demand.of(null, "/v1"), now()), 503, "no-idle-worker");
  }

  @Test
  void shouldPinAnIpHashRequestToItsBusyAgentWhenTheFallbackIsToWait() {
    FakeRef<AgentWorker.Command> a = idle(profile("a", 0, List.of()), 1);
    pool.markBusy(a);
    ProxiedRequest request =
        ProxiedRequest.of(
            "GET",
            "/v1",
            "/v1",
            List.of(),
            HttpEntities.EMPTY,
            new RequestTraits(
                Demand.of(null, "/v1"), true, 0, Duration.ofMinutes(1), Policy.IP_HASH, "1.2.3.4"));

    Placement.Pick pick = alone.choose(request, null, now());
    assertFalse(pick.found());
    assertEquals("a", pick.pinnedTo());
  }

  /** Lends from the board as a cluster's peers do, without their actor context. */
  private record BoardPeers(PeerBoard board) implements Peers {
    @Override
    public List<PeerBoard.PeerAgent> idleFor(Demand demand) {
      return board.idleFor(demand);
    }

    @Override
    public PeerBoard.PeerWaiter firstWaiter(WorkerProfile profile) {
      return board.firstWaiter(profile);
    }

    @Override
    public void lend(
        ActorRef<AgentWorker.Command> worker,
        WorkerProfile profile,
        PeerBoard.PeerWaiter remote,
        Waiter rival) {}

    @Override
    public void send(Job job, Placement.Pick pick) {}

    @Override
    public void lendIdle(long now) {}

    @Override
    public void onLend(Dispatcher.Lend lend) {}

    @Override
    public ActorRef<AgentWorker.Command> loanBack(long loan) {
      return null;
    }

    @Override
    public void onOffer(Dispatcher.Offer offer, boolean lendIdle) {}

    @Override
    public void onStatus(Dispatcher.PeerStatus status) {}

    @Override
    public void onListed(Receptionist.Listing listing) {}

    @Override
    public void onUnreachable(Address address) {}

    @Override
    public void forget(ActorRef<AgentWorker.Command> worker) {}

    @Override
    public void ended(ActorRef<?> request) {}

    @Override
    public void changed() {}

    @Override
    public void publishStatus() {}

    @Override
    public void stopOffering() {}

    @Override
    public List<ActorRef<Dispatcher.Command>> known() {
      return List.of();
    }

    @Override
    public List<Dispatcher.NodePool> nodePools(NodeCounts self) {
      return List.of();
    }
  }

  private FakeRef<AgentWorker.Command> idle(WorkerProfile profile, long idleSince) {
    FakeRef<AgentWorker.Command> worker = new FakeRef<>(profile.slot().replace('#', '-'));
    pool.join(worker, profile);
    pool.markIdle(worker, idleSince);
    return worker;
  }

  private static WorkerProfile profile(String agentId, int index, List<String> scopes) {
    return new WorkerProfile(agentId, "agent-" + agentId, index, scopes, List.of());
  }

  private static AgentSummary summary(String agentId, int idle) {
    return new AgentSummary(
        agentId, "agent-" + agentId, 0, Acceptance.ANY, 1, 1, idle, idle, 0, null, 0, 0, 0, 0, 0);
  }

  private static ProxiedRequest request(String path, String scope) {
    return ProxiedRequest.of("GET", path, path, List.of(), HttpEntities.EMPTY, scope, false);
  }

  private static long now() {
    return System.nanoTime();
  }

  private static void assertRefused(HttpResponse response, int status, String code) {
    assertEquals(status, response.status().intValue());
    assertEquals(code, response.getHeader("Slime-Error").orElseThrow().value());
  }
}
