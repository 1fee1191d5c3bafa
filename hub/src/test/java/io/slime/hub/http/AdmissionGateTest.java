package io.slime.hub.http;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slime.hub.dispatch.Exchange;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.model.HttpEntities;
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

  private static Exchange exchange() {
    return new Exchange("GET", "/", "/", List.of(), HttpEntities.EMPTY, null, true);
  }

  private static Object admitted(CompletionStage<?> admission) throws Exception {
    return admission.toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  void shouldLetWaitingRequestsInOnALargerShareAndApplyASmallerOneAsRequestsFinish()
      throws Exception {
    AdmissionGate gate = gate(1);
    Exchange first = exchange();
    Exchange second = exchange();
    assertNull(admitted(gate.admit(first)));
    CompletableFuture<?> secondIn = gate.admit(second).toCompletableFuture();
    assertFalse(secondIn.isDone(), "one slot: the second waits");

    gate.resize(2);
    assertNull(admitted(secondIn), "two slots: the second gets in");

    gate.resize(1);
    Exchange third = exchange();
    CompletableFuture<?> thirdIn = gate.admit(third).toCompletableFuture();
    first.finish();
    Thread.sleep(100);
    assertFalse(thirdIn.isDone(), "two active over a limit of one: a finish frees no slot");
    second.finish();
    assertNull(admitted(thirdIn), "one active left the slot free");
    assertTrue(thirdIn.isDone());
  }
}
