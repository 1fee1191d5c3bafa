package io.slime.hub.http;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slime.hub.model.ResponseSlot;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class AdmissionGateTest {
  private static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static AdmissionGate gate(int limit) {
    return new AdmissionGate(
        limit,
        100,
        Duration.ofMinutes(1),
        testKit.system().classicSystem().scheduler(),
        testKit.system().executionContext());
  }

  /** The slot of a new request, as the proxy handler makes one. */
  private static ResponseSlot request() {
    return new ResponseSlot();
  }

  /** The request is answered and over. */
  private static void finish(ResponseSlot request) {
    request.answer(HttpResponse.create());
    request.finish();
  }

  private static Object admitted(CompletionStage<?> admission) throws Exception {
    return admission.toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  void shouldLetWaitingRequestsInOnALargerShareAndApplyASmallerOneAsRequestsFinish()
      throws Exception {
    AdmissionGate gate = gate(1);
    ResponseSlot first = request();
    ResponseSlot second = request();
    assertNull(admitted(gate.admit(first)));
    CompletableFuture<?> secondIn = gate.admit(second).toCompletableFuture();
    assertFalse(secondIn.isDone(), "one slot: the second waits");

    gate.resize(2);
    assertNull(admitted(secondIn), "two slots: the second gets in");

    gate.resize(1);
    ResponseSlot third = request();
    CompletableFuture<?> thirdIn = gate.admit(third).toCompletableFuture();
    finish(first);
    Thread.sleep(100);
    assertFalse(thirdIn.isDone(), "two active over a limit of one: a finish frees no slot");
    finish(second);
    assertNull(admitted(thirdIn), "one active left the slot free");
    assertTrue(thirdIn.isDone());
  }
}
