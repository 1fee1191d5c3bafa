package io.slime.shared.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class AgentReportTest {

  @Test
  void shouldRoundTripAsTheAgentSendsItAndLeaveUnmeasuredValuesOut() {
    AgentReport full =
        new AgentReport(
            false,
            "GET /health answered 503",
            12.5,
            40.0,
            0.7,
            List.of(new AgentReport.Gpu(0, "NVIDIA A100", 35, 1234, 40960)));
    AgentReport waiting =
        new AgentReport(false, "waiting for the first health check", null, null, null, null);

    assertEquals(full, AgentReport.fromJson(full.toJson()));
    assertEquals(waiting, AgentReport.fromJson(waiting.toJson()));
    assertEquals(
        "{\"healthy\":false,\"healthDetail\":\"waiting for the first health check\",\"gpus\":[]}",
        waiting.toJson());
  }

  @Test
  void shouldReadAReportWithFieldsItDoesNotKnow() {
    AgentReport report = AgentReport.fromJson("{\"healthy\":true,\"future\":1}");

    assertEquals(new AgentReport(true, null, null, null, null, List.of()), report);
    assertFalse(AgentReport.fromJson("{}").healthy(), "a report without a verdict is no pass");
    assertThrows(IllegalArgumentException.class, () -> AgentReport.fromJson("not json"));
  }
}
