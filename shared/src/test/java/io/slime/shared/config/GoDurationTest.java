package io.slime.shared.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class GoDurationTest {

  @ParameterizedTest
  @CsvSource({
    "1h30m, PT1H30M",
    "90s, PT1M30S",
    "1.5h, PT1H30M",
    "300ms, PT0.3S",
    "2h45m30s, PT2H45M30S",
    "0, PT0S",
    "0s, PT0S",
    "+5m, PT5M",
    "-1.5s, PT-1.5S",
    ".5s, PT0.5S",
    "5.s, PT5S",
    "1h0.5m, PT1H30S",
    "1us, PT0.000001S",
    "1µs, PT0.000001S",
    "1μs, PT0.000001S",
    "1ns, PT0.000000001S",
    "1.0000000009s, PT1.000000000S",
    "2562047h, PT2562047H",
  })
  void shouldParseWhatGoParses(String text, String expected) {
    assertEquals(Duration.parse(expected), GoDuration.parse(text));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "h",
        "1",
        "10",
        "1d",
        "1 h",
        " 1h",
        "1h ",
        "1h-30m",
        ".",
        ".s",
        "-",
        "+",
        "1.2.3s",
        "abc",
        "1H",
        "3000000h",
        "9223372036854775808ns"
      })
  void shouldRejectJunkWithAClearMessage(String text) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> GoDuration.parse(text));
    assertTrue(e.getMessage().startsWith("invalid duration '" + text + "'"), e.getMessage());
  }
}
