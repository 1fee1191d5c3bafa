package io.slime.hub.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BalancerTest {
  private static final int PICKS = 20_000;

  private record Agent(
      String agentId,
      double weight,
      int busy,
      int workers,
      double latencyMs,
      double load,
      long idleSinceNanos,
      double ramp)
      implements Choice {
    static Agent of(String id) {
      return new Agent(id, 1, 0, 1, 0, 0, 0, 1);
    }

    Agent weight(double w) {
      return new Agent(agentId, w, busy, workers, latencyMs, load, idleSinceNanos, ramp);
    }

    Agent busy(int b, int w) {
      return new Agent(agentId, weight, b, w, latencyMs, load, idleSinceNanos, ramp);
    }

    Agent latency(double ms) {
      return new Agent(agentId, weight, busy, workers, ms, load, idleSinceNanos, ramp);
    }

    Agent idleSince(long nanos) {
      return new Agent(agentId, weight, busy, workers, latencyMs, load, nanos, ramp);
    }

    Agent ramp(double r) {
      return new Agent(agentId, weight, busy, workers, latencyMs, load, idleSinceNanos, r);
    }
  }

  private static Map<String, Integer> picks(Balancer balancer, Policy policy, List<Agent> agents) {
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < PICKS; i++) {
      counts.merge(agents.get(balancer.pick(policy, agents)).agentId(), 1, Integer::sum);
    }
    return counts;
  }

  private static void assertShare(Map<String, Integer> counts, String id, double expected) {
    double share = counts.getOrDefault(id, 0) / (double) PICKS;
    // 20,000 picks: the standard error of a share is under 0.4%; 2.5% is a wide margin.
    assertEquals(expected, share, 0.025, id + " got " + share + " of the picks: " + counts);
  }

  @Test
  void shouldPickInProportionToWeightUnderWeighted() {
    List<Agent> agents =
        List.of(Agent.of("a").weight(1), Agent.of("b").weight(3), Agent.of("c").weight(6));
    Map<String, Integer> counts = picks(new Balancer(new Random(1)), Policy.WEIGHTED, agents);
    assertShare(counts, "a", 0.1);
    assertShare(counts, "b", 0.3);
    assertShare(counts, "c", 0.6);
  }

  @Test
  void shouldGoAgentAfterAgentInIdOrderUnderRoundRobin() {
    Balancer balancer = new Balancer(new Random(1));
    List<Agent> agents = List.of(Agent.of("c"), Agent.of("a"), Agent.of("b"));
    List<String> order = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      order.add(agents.get(balancer.pick(Policy.ROUND_ROBIN, agents)).agentId());
    }
    assertEquals(List.of("a", "b", "c", "a", "b", "c"), order);
    assertEquals("a", agents.get(balancer.pick(Policy.ROUND_ROBIN, agents)).agentId());
    // b is not free this time: it is passed over, and the turn goes on from c.
    List<Agent> withoutB = List.of(Agent.of("a"), Agent.of("c"));
    assertEquals("c", withoutB.get(balancer.pick(Policy.ROUND_ROBIN, withoutB)).agentId());
  }

  @Test
  void shouldPickTheAgentWithFewestBusyWorkersThenTheLongestIdleUnderLeastBusy() {
    Balancer balancer = new Balancer(new Random(1));
    List<Agent> agents =
        List.of(
            Agent.of("a").busy(3, 4).idleSince(10),
            Agent.of("b").busy(1, 4).idleSince(30),
            Agent.of("c").busy(1, 2).idleSince(20));
    assertEquals("c", agents.get(balancer.pick(Policy.LEAST_BUSY, agents)).agentId());
  }

  @Test
  void shouldPickTheLongestIdleUnderFifo() {
    List<Agent> agents =
        List.of(
            Agent.of("a").idleSince(50), Agent.of("b").idleSince(-20), Agent.of("c").idleSince(0));
    assertEquals("b", agents.get(new Balancer(new Random(1)).pick(Policy.FIFO, agents)).agentId());
  }

  @Test
  void shouldFavourTheFasterAgentButStillTryTheSlowerOneUnderPerformance() {
    List<Agent> agents = List.of(Agent.of("fast").latency(9), Agent.of("slow").latency(39));
    Map<String, Integer> counts = picks(new Balancer(new Random(2)), Policy.PERFORMANCE, agents);
    // Scores 1/10 and 1/40: 80% and 20%.
    assertShare(counts, "fast", 0.8);
    assertShare(counts, "slow", 0.2);
  }

  @Test
  void shouldWeighLoadAndBusyWorkersTooUnderPerformance() {
    Agent idleMachine = Agent.of("idle").latency(9);
    Agent busyMachine = new Agent("busy", 1, 1, 2, 9, 1.0, 0, 1);
    Map<String, Integer> counts =
        picks(new Balancer(new Random(3)), Policy.PERFORMANCE, List.of(idleMachine, busyMachine));
    // Costs 10 and 10 x 2 (load) x 1.5 (half its workers busy): shares 3/4 and 1/4.
    assertShare(counts, "idle", 0.75);
  }

  @Test
  void shouldLetAnAgentBackInAtItsSlowStartRamp() {
    List<Agent> agents = List.of(Agent.of("steady"), Agent.of("back").ramp(0.25));
    Map<String, Integer> weighted = picks(new Balancer(new Random(4)), Policy.WEIGHTED, agents);
    assertShare(weighted, "back", 0.2); // 0.25 against 1
    Map<String, Integer> fifo =
        picks(
            new Balancer(new Random(5)),
            Policy.FIFO,
            List.of(Agent.of("steady").idleSince(10), Agent.of("back").ramp(0.25).idleSince(0)));
    assertShare(fifo, "back", 0.25); // longest idle, but let through a quarter of the time
    assertEquals(
        0,
        new Balancer(new Random(6)).pick(Policy.FIFO, List.of(Agent.of("only").ramp(0.01))),
        "the only agent is used whatever its ramp");
  }

  @Test
  void shouldKeepClientsOnTheirAgentAndMoveOnlyTheLeavingAgentsClientsByRendezvousHash() {
    List<String> three = List.of("gpu-1", "gpu-2", "gpu-3");
    Map<String, Integer> perAgent = new HashMap<>();
    Map<String, String> owner = new HashMap<>();
    for (int i = 0; i < 3000; i++) {
      String ip = "10.0." + (i / 250) + "." + (i % 250);
      String agent = RendezvousHash.owner(ip, three);
      assertEquals(agent, RendezvousHash.owner(ip, List.of("gpu-3", "gpu-1", "gpu-2")), "stable");
      owner.put(ip, agent);
      perAgent.merge(agent, 1, Integer::sum);
    }
    for (String agent : three) {
      assertTrue(perAgent.get(agent) > 800, "clients spread evenly: " + perAgent);
    }
    List<String> two = List.of("gpu-1", "gpu-3");
    owner.forEach(
        (ip, agent) -> {
          if (!agent.equals("gpu-2")) {
            assertEquals(agent, RendezvousHash.owner(ip, two), "only gpu-2's clients move");
          }
        });
  }
}
