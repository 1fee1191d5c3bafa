package io.slime.hub.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slime.hub.dispatch.Dispatcher;
import io.slime.hub.dispatch.WorkerProfile;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class PeerBoardTest {
  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final WorkerProfile V1_ONLY =
      new WorkerProfile("", "", 0, List.of(), List.of("/v1/*"));

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static ActorRef<Dispatcher.Command> peer() {
    return testKit.<Dispatcher.Command>createTestProbe().ref();
  }

  @Test
  void countsOffWhatItHandsOutUntilThePeerSaysOtherwise() {
    PeerBoard board = new PeerBoard();
    ActorRef<Dispatcher.Command> peer = peer();
    board.update(peer, List.of(new IdleGroup(V1_ONLY, 1, 2)), List.of(), 0);
    assertNull(board.takeIdle(null, "/v2/x"), "its workers take only /v1/");
    assertEquals(peer, board.takeIdle(null, "/v1/x"));
    assertNull(board.takeIdle(null, "/v1/x"), "its one idle worker is taken");
    board.free(peer, V1_ONLY);
    assertEquals(peer, board.takeIdle(null, "/v1/x"));
  }

  @Test
  void knowsWhetherAnyNodeHasWorkersWhateverTheyAccept() {
    PeerBoard board = new PeerBoard();
    assertFalse(board.anyWorker());
    board.update(peer(), List.of(new IdleGroup(V1_ONLY, 0, 1)), List.of(), 0);
    assertTrue(board.anyWorker());
    assertTrue(board.anyWorker(null, "/v1/a"));
    assertFalse(board.anyWorker(null, "/v2/a"));
  }

  @Test
  void offersTheOldestWaiterAWorkerAcceptsOnce() {
    PeerBoard board = new PeerBoard();
    ActorRef<Dispatcher.Command> early = peer();
    ActorRef<Dispatcher.Command> late = peer();
    board.update(late, List.of(), List.of(new Waiter(null, "/v1/a", 200)), 1);
    board.update(
        early, List.of(), List.of(new Waiter(null, "/v2/a", 50), new Waiter(null, "/v1/b", 100)), 2);
    PeerBoard.PeerWaiter oldest = board.oldestWaiter(V1_ONLY);
    assertEquals(early, oldest.peer());
    assertEquals("/v1/b", oldest.waiter().path());
    board.remove(oldest);
    assertEquals(late, board.oldestWaiter(V1_ONLY).peer());
  }
}
