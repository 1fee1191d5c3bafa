package io.slime.hub.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slime.hub.model.Demand;
import io.slime.hub.model.Job;
import io.slime.hub.model.ProxiedRequest;
import io.slime.hub.model.RequestTraits;
import io.slime.hub.policy.Policy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.junit.jupiter.api.Test;

class WaitingRequestsTest {

  private static Job waiting(String path, int priority, Duration maxWait) {
    return Job.of(
        ProxiedRequest.of(
            "GET",
            path,
            path,
            List.of(),
            HttpEntities.EMPTY,
            new RequestTraits(Demand.of(null, path), true, priority, maxWait, Policy.FIFO, "")));
  }

  @Test
  void shouldServeByPriorityThenArrivalAndSkipWhatTheWorkerDoesNotAccept() {
    WaitingRequests queue = new WaitingRequests(9, Duration.ofMinutes(5).toNanos());
    Job a = waiting("/a", 0, Duration.ofMinutes(1));
    Job b = waiting("/b", 5, Duration.ofMinutes(1));
    Job c = waiting("/c", 5, Duration.ofMinutes(1));
    Job d = waiting("/d", 0, Duration.ofMinutes(1));
    for (Job e : List.of(a, b, c, d)) {
      queue.add(e, false);
    }
    assertEquals(4, queue.size());
    assertEquals(b, queue.takeFirst(e -> true));
    assertEquals(
        a, queue.takeFirst(e -> !e.request().path().equals("/c")), "c is skipped, not lost");
    b.slot().markGone();
    queue.add(b, true); // a gone one stays until met, and is passed over
    assertEquals(c, queue.takeFirst(e -> true));
    assertEquals(d, queue.takeFirst(e -> true));
    assertNull(queue.takeFirst(e -> true));
    assertTrue(queue.remove(b));
    assertEquals(0, queue.size());
  }

  @Test
  void shouldExpireEachAtItsOwnDeadlineCappedByTheHubsBound() throws Exception {
    WaitingRequests queue = new WaitingRequests(9, Duration.ofMillis(300).toNanos());
    Job patient = waiting("/patient", 0, Duration.ofMinutes(1));
    Job quick = waiting("/quick", 9, Duration.ofMillis(50));
    queue.add(patient, false);
    queue.add(quick, false);
    long start = System.nanoTime();
    assertEquals(
        quick.request().createdNanos() + Duration.ofMillis(50).toNanos(),
        queue.nextDeadlineNanos());
    assertEquals(List.of(quick), queue.takeExpired(start + Duration.ofMillis(100).toNanos()));
    assertEquals(
        patient.request().createdNanos() + Duration.ofMillis(300).toNanos(),
        queue.nextDeadlineNanos(),
        "the hub's bound comes before the request's own");
    assertEquals(List.of(patient), queue.takeExpired(start + Duration.ofSeconds(1).toNanos()));
    assertTrue(queue.isEmpty());
  }

  @Test
  void shouldLeaveNoGarbageBehindWhenManyRequestsComeAndGo() {
    WaitingRequests queue = new WaitingRequests(9, Duration.ofMinutes(5).toNanos());
    List<Job> kept = new ArrayList<>();
    for (int i = 0; i < 50_000; i++) {
      Job e = waiting("/x" + i, i % 10, Duration.ofMinutes(1));
      queue.add(e, false);
      if (i % 1000 == 0) {
        kept.add(e);
      } else {
        queue.remove(e);
      }
    }
    assertEquals(kept.size(), queue.size());
    List<Job> served = new ArrayList<>();
    for (Job e; (e = queue.takeFirst(x -> true)) != null; ) {
      served.add(e);
    }
    assertEquals(kept.size(), served.size());
    assertTrue(queue.takeExpired(Long.MAX_VALUE).isEmpty());
  }
}
