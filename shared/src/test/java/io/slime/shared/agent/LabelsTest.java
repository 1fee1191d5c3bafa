package io.slime.shared.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class LabelsTest {

  @Test
  void shouldParseAndFormatPairsInKeyOrder() {
    Map<String, String> labels = Labels.parse(" model=llama3 , gpu=a100,,zone=eu-1 ");

    assertEquals(Map.of("model", "llama3", "gpu", "a100", "zone", "eu-1"), labels);
    assertEquals("gpu=a100,model=llama3,zone=eu-1", Labels.format(labels));
    assertEquals(labels, Labels.parse(Labels.format(labels)));
    assertEquals(Map.of(), Labels.parse("  "));
  }

  @Test
  void shouldRefuseWhatIsNotAPlainKeyValuePairAndSayWhich() {
    IllegalArgumentException noEquals =
        assertThrows(IllegalArgumentException.class, () -> Labels.parse("model=x,gpu"));
    assertTrue(noEquals.getMessage().contains("'gpu'"), noEquals.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Labels.parse("=x"));
    assertThrows(IllegalArgumentException.class, () -> Labels.parse("model=a b"));
    assertThrows(IllegalArgumentException.class, () -> Labels.parse("mo del=x"));
  }

  @Test
  void shouldMatchWhenEveryWantedPairIsPresent() {
    Map<String, String> labels = Map.of("model", "llama3", "gpu", "a100");

    assertTrue(Labels.matches(labels, Map.of()));
    assertTrue(Labels.matches(labels, Map.of("model", "llama3")));
    assertTrue(Labels.matches(labels, labels));
    assertFalse(Labels.matches(labels, Map.of("model", "mistral")));
    assertFalse(Labels.matches(labels, Map.of("model", "llama3", "zone", "eu")));
  }

  @Test
  void shouldLetTermsOfTheTokenWinOverTheAgentsAndMergeLabelsKeyByKey() {
    AgentTerms token = new AgentTerms(2, Map.of("model", "llama3"), null, 500L);
    AgentTerms agent = new AgentTerms(5, Map.of("model", "other", "gpu", "a100"), 60L, null);

    AgentTerms merged = token.over(agent);

    assertEquals(new AgentTerms(2, Map.of("model", "llama3", "gpu", "a100"), 60L, 500L), merged);
    assertThrows(IllegalArgumentException.class, () -> new AgentTerms(-1, null, null, null));
  }

  @Test
  void shouldRoundTripAReportAsJsonAndTakeItsLoadAsTheBusiestOfCpuAndGpu() {
    AgentReport report =
        new AgentReport(
            false,
            "GET /health answered 503",
            20.0,
            50.0,
            1.5,
            java.util.List.of(new AgentReport.Gpu(0, "A100", 80.0, 1000, 40000)));

    assertEquals(report, AgentReport.fromJson(report.toJson()));
    assertEquals(0.8, report.load(), 1e-9);
    assertEquals(0.0, AgentReport.NONE.load());
    assertThrows(IllegalArgumentException.class, () -> AgentReport.fromJson("[1,2"));
  }
}
