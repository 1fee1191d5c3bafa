package io.slime.hub.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slime.hub.model.Acceptance;
import io.slime.hub.model.Demand;
import io.slime.hub.model.WorkerProfile;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class PeerBoardTest {
  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final Duration HOLD = Duration.ofMillis(20);
  private static final Acceptance V1_ONLY = new Acceptance(List.of(), List.of("/v1/*"), null);
  private static final WorkerProfile V1_WORKER =
      new WorkerProfile("a", "a", 0, List.of(), List.of("/v1/*"));

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static ActorRef<Dispatcher.Command> peer() {
    return testKit.<Dispatcher.Command>createTestProbe().ref();
  }

  private static AgentSummary agent(
      String id, Acceptance accepts, int idle, int workers, String unavailable) {
    return agent(id, 7, accepts, idle, workers, unavailable);
  }

  private static AgentSummary agent(
      String id, long tokenId, Acceptance accepts, int idle, int workers, String unavailable) {
    return new AgentSummary(
        id, id, tokenId, accepts, 1, 1, workers, idle, workers - idle, unavailable, 0, 0, 0, 0, 0);
  }

  @Test
  void shouldNameTheNodeWhereAnotherTokenHoldsAnAgentId() {
    PeerBoard board = new PeerBoard(HOLD);
    ActorRef<Dispatcher.Command> peer = peer();
    board.update(peer, List.of(agent("a", 7, V1_ONLY, 1, 1, null)), List.of(), 0, 0);

    assertNull(board.heldByOtherToken("a", 7), "its own token");
    assertNull(board.heldByOtherToken("b", 8), "an id nobody holds");
    PeerBoard.PeerAgent held = board.heldByOtherToken("a", 8);
    assertEquals(peer, held.peer());
    assertEquals(7, held.agent().tokenId());
  }

  @Test
  void shouldCountOffWhatItHandsOutUntilThePeerSaysOtherwise() {
    PeerBoard board = new PeerBoard(HOLD);
    ActorRef<Dispatcher.Command> peer = peer();
    board.update(peer, List.of(agent("a", V1_ONLY, 1, 2, null)), List.of(), 0, 0);
    assertTrue(board.idleFor(Demand.of(null, "/v2/x")).isEmpty(), "its workers take only /v1/");
    List<PeerBoard.PeerAgent> found = board.idleFor(Demand.of(null, "/v1/x"));
    assertEquals(1, found.size());
    assertEquals(peer, found.get(0).peer());
    board.take(peer, "a");
    assertTrue(board.idleFor(Demand.of(null, "/v1/x")).isEmpty(), "its one idle worker is taken");
    board.free(peer, V1_WORKER, 0);
    assertEquals(1, board.idleFor(Demand.of(null, "/v1/x")).size());
  }

  @Test
  void shouldKeepAWorkerItCountedIdleAgainAgainstAStatusSentWhileItWasBusy() {
    PeerBoard board = new PeerBoard(HOLD);
    ActorRef<Dispatcher.Command> peer = peer();
    Demand v1 = Demand.of(null, "/v1/x");
    board.update(peer, List.of(agent("a", V1_ONLY, 1, 1, null)), List.of(), 0, 0);
    board.take(peer, "a");
    long freed = 1_000_000;
    board.free(peer, V1_WORKER, freed);

    // Sent while the worker still served this node's request, arriving just after its end.
    board.update(peer, List.of(agent("a", V1_ONLY, 0, 1, null)), List.of(), 0, freed + 1_000);
    assertEquals(1, board.idleFor(v1).size(), "the status predates the answer's end");

    // Once a status interval has passed, the peer's word holds: the worker is busy again.
    board.update(
        peer, List.of(agent("a", V1_ONLY, 0, 1, null)), List.of(), 0, freed + HOLD.toNanos());
    assertTrue(board.idleFor(v1).isEmpty());
  }

  @Test
  void shouldOfferNoWorkerOfAnAgentThatTakesNothingAndHonourLabelsAndPins() {
    PeerBoard board = new PeerBoard(HOLD);
    Acceptance llama = new Acceptance(List.of(), List.of(), Map.of("model", "llama3"));
    board.update(
        peer(),
        List.of(
            agent("drained", Acceptance.ANY, 1, 1, "draining"), agent("llama", llama, 1, 1, null)),
        List.of(),
        0,
        0);
    List<PeerBoard.PeerAgent> any = board.idleFor(Demand.of(null, "/x"));
    assertEquals(List.of("llama"), any.stream().map(p -> p.agent().agentId()).toList());
    assertTrue(board.idleFor(new Demand(null, "/x", Map.of("model", "mistral"), null)).isEmpty());
    assertTrue(board.idleFor(Demand.of(null, "/x").pinnedTo("drained")).isEmpty());
    assertEquals(1, board.idleFor(Demand.of(null, "/x").pinnedTo("llama")).size());
  }

  @Test
  void shouldKnowWhetherAnyNodeHasWorkersWhateverTheyAccept() {
    PeerBoard board = new PeerBoard(HOLD);
    assertFalse(board.anyWorker());
    board.update(peer(), List.of(agent("a", V1_ONLY, 0, 1, null)), List.of(), 0, 0);
    assertTrue(board.anyWorker());
    assertTrue(board.anyWorker(Demand.of(null, "/v1/a")));
    assertFalse(board.anyWorker(Demand.of(null, "/v2/a")));
  }

  @Test
  void shouldOfferTheFirstWaiterAWorkerAcceptsOnceHigherPriorityFirst() {
    PeerBoard board = new PeerBoard(HOLD);
    ActorRef<Dispatcher.Command> early = peer();
    ActorRef<Dispatcher.Command> late = peer();
    ActorRef<Dispatcher.Command> urgent = peer();
    board.update(late, List.of(), List.of(new Waiter(Demand.of(null, "/v1/a"), 0, 200)), 1, 0);
    board.update(
        early,
        List.of(),
        List.of(
            new Waiter(Demand.of(null, "/v2/a"), 0, 50),
            new Waiter(Demand.of(null, "/v1/b"), 0, 100)),
        2,
        0);
    PeerBoard.PeerWaiter first = board.firstWaiter(V1_WORKER);
    assertEquals(early, first.peer());
    assertEquals("/v1/b", first.waiter().demand().path());
    board.remove(first);
    assertEquals(late, board.firstWaiter(V1_WORKER).peer());

    board.update(urgent, List.of(), List.of(new Waiter(Demand.of(null, "/v1/c"), 5, 900)), 1, 0);
    assertEquals(urgent, board.firstWaiter(V1_WORKER).peer(), "priority 5 overtakes older ones");
  }
}
