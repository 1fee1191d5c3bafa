package io.slime.shared.config;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.Map;

/**
 * Parses durations written as Go's {@code time.ParseDuration} accepts them ({@code 1h30m}, {@code
 * 90s}, {@code 1.5h}, {@code 300ms}), so flags such as {@code --age} keep Go Slime's syntax.
 *
 * <p>A duration is an optional sign and one or more decimal numbers, each with a unit: {@code ns},
 * {@code us} ({@code µs}, {@code μs}), {@code ms}, {@code s}, {@code m}, {@code h}. A bare {@code
 * 0} is allowed. As in Go, the total must fit in a signed 64-bit count of nanoseconds (about 292
 * years) and fractions of a nanosecond are dropped.
 */
public final class GoDuration {

  private static final Map<String, Long> UNIT_NANOS =
      Map.of(
          "ns", 1L,
          "us", 1_000L,
          "\u00b5s", 1_000L, // micro sign
          "\u03bcs", 1_000L, // Greek small letter mu
          "ms", 1_000_000L,
          "s", 1_000_000_000L,
          "m", 60_000_000_000L,
          "h", 3_600_000_000_000L);

  private static final BigDecimal MAX_NANOS = BigDecimal.valueOf(Long.MAX_VALUE);
  private static final BigDecimal MIN_NANOS = BigDecimal.valueOf(Long.MIN_VALUE);

  private GoDuration() {}

  /**
   * Parses {@code text} into a {@link Duration}.
   *
   * @throws IllegalArgumentException naming the text and what is wrong with it
   */
  public static Duration parse(String text) {
    if (text == null || text.isEmpty()) {
      throw invalid(text, "empty");
    }
    int i = 0;
    boolean negative = false;
    if (text.charAt(0) == '-' || text.charAt(0) == '+') {
      negative = text.charAt(0) == '-';
      i++;
    }
    if (text.substring(i).equals("0")) {
      return Duration.ZERO;
    }
    if (i == text.length()) {
      throw invalid(text, "no number");
    }
    BigDecimal total = BigDecimal.ZERO;
    while (i < text.length()) {
      int start = i;
      while (i < text.length() && isDigit(text.charAt(i))) {
        i++;
      }
      boolean intDigits = i > start;
      boolean fracDigits = false;
      if (i < text.length() && text.charAt(i) == '.') {
        i++;
        int fracStart = i;
        while (i < text.length() && isDigit(text.charAt(i))) {
          i++;
        }
        fracDigits = i > fracStart;
      }
      if (!intDigits && !fracDigits) {
        throw invalid(text, "expected a number at position " + (start + 1));
      }
      String number = text.substring(start, i);
      int unitStart = i;
      while (i < text.length() && text.charAt(i) != '.' && !isDigit(text.charAt(i))) {
        i++;
      }
      String unit = text.substring(unitStart, i);
      if (unit.isEmpty()) {
        throw invalid(text, "missing unit after " + number + " (use ns, us, ms, s, m or h)");
      }
      Long nanos = UNIT_NANOS.get(unit);
      if (nanos == null) {
        throw invalid(text, "unknown unit '" + unit + "' (use ns, us, ms, s, m or h)");
      }
      // "5." and ".5" are both valid in Go; BigDecimal wants digits on each side of the point.
      BigDecimal value = new BigDecimal(number.endsWith(".") ? number + "0" : "0" + number);
      total = total.add(value.multiply(BigDecimal.valueOf(nanos)));
      if (total.compareTo(MAX_NANOS.add(BigDecimal.ONE)) > 0) {
        throw invalid(text, "too large");
      }
    }
    BigDecimal signed = negative ? total.negate() : total;
    if (signed.compareTo(MAX_NANOS) > 0 || signed.compareTo(MIN_NANOS) < 0) {
      throw invalid(text, "too large");
    }
    return Duration.ofNanos(signed.setScale(0, RoundingMode.DOWN).longValueExact());
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static IllegalArgumentException invalid(String text, String why) {
    return new IllegalArgumentException(
        "invalid duration '" + text + "': " + why + " (examples: 90s, 1h30m, 1.5h, 300ms)");
  }
}
