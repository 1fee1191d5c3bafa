package io.slime.shared.agent;

import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Agent labels ({@code model=llama3}) as flags, tokens, handshake headers and {@code Slime-Select}
 * write them: {@code key=value} pairs separated by commas. Keys and values are short and plain, so
 * they never need quoting in a header.
 */
public final class Labels {
  private static final Pattern KEY = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]{0,62}");
  private static final Pattern VALUE = Pattern.compile("[A-Za-z0-9._:/+-]{0,128}");
  private static final int MAX_LABELS = 32;

  private Labels() {}

  /**
   * Parses {@code "model=llama3, gpu=a100"}; blank means none.
   *
   * @throws IllegalArgumentException naming the entry that is not {@code key=value}
   */
  public static Map<String, String> parse(String text) {
    Map<String, String> labels = new TreeMap<>();
    if (text == null || text.isBlank()) {
      return labels;
    }
    for (String entry : text.split(",")) {
      String trimmed = entry.strip();
      if (!trimmed.isEmpty()) {
        put(labels, trimmed);
      }
    }
    return labels;
  }

  /** Adds one {@code key=value} entry to {@code labels}, checked as {@link #parse} does. */
  public static void put(Map<String, String> labels, String entry) {
    int eq = entry.indexOf('=');
    if (eq < 0) {
      throw new IllegalArgumentException("label '" + entry + "' is not key=value");
    }
    String key = entry.substring(0, eq).strip();
    String value = entry.substring(eq + 1).strip();
    if (!KEY.matcher(key).matches()) {
      throw new IllegalArgumentException(
          "label key '"
              + key
              + "' must be 1 to 63 letters, digits or . _ / - (starting with a"
              + " letter or digit)");
    }
    if (!VALUE.matcher(value).matches()) {
      throw new IllegalArgumentException(
          "label value '" + value + "' must be at most 128 letters, digits or . _ : / + -");
    }
    labels.put(key, value);
    if (labels.size() > MAX_LABELS) {
      throw new IllegalArgumentException("at most " + MAX_LABELS + " labels");
    }
  }

  /** The labels as {@code a=1,b=2}, in key order: what {@link #parse} reads back. */
  public static String format(Map<String, String> labels) {
    StringJoiner out = new StringJoiner(",");
    new TreeMap<>(labels).forEach((k, v) -> out.add(k + "=" + v));
    return out.toString();
  }

  /** Whether {@code labels} has every pair of {@code wanted}. */
  public static boolean matches(Map<String, String> labels, Map<String, String> wanted) {
    for (Map.Entry<String, String> want : wanted.entrySet()) {
      if (!want.getValue().equals(labels.get(want.getKey()))) {
        return false;
      }
    }
    return true;
  }
}
