package io.slime.it;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The requests a connection's bytes hold by the hub's rules (see the hub's RequestFramer), worked
 * out apart from the hub: the targets of the heads it would hand on, in order, up to the first byte
 * that breaks the rules or the end of the bytes. A test oracle, written for clarity, not speed.
 */
final class StrictRequests {
  private static final String TCHARS = "[!#$%&'*+.^_`|~0-9A-Za-z-]";
  private static final Pattern REQUEST_LINE =
      Pattern.compile(TCHARS + "+ [\\x21-\\x7e]+ HTTP/1\\.[01]");
  private static final Pattern FIELD_LINE = Pattern.compile(TCHARS + "+:[\\t\\x20-\\x7e]*");
  private static final Pattern CHUNK_LINE = Pattern.compile("([0-9A-Fa-f]+)(;[\\t\\x20-\\x7e]*)?");

  private StrictRequests() {}

  /**
   * The targets of the requests in {@code bytes}; {@code whole} when the bytes are nothing but
   * whole requests, so that the hub answers each and then waits for more.
   */
  record Parsed(List<String> targets, boolean whole) {}

  static List<String> targets(byte[] bytes) {
    return parse(bytes).targets();
  }

  static Parsed parse(byte[] bytes) {
    List<String> targets = new ArrayList<>();
    int end = parse(new String(bytes, StandardCharsets.ISO_8859_1), targets);
    return new Parsed(targets, end == bytes.length);
  }

  /** Adds the targets to {@code targets}; returns where the bytes stop holding whole requests. */
  private static int parse(String all, List<String> targets) {
    int at = 0;
    while (at < all.length()) {
      int start = at;
      int end = all.indexOf("\r\n\r\n", at);
      if (end < 0) {
        return start;
      }
      String[] lines = all.substring(at, end).split("\r\n", -1);
      if (!REQUEST_LINE.matcher(lines[0]).matches()) {
        return start;
      }
      long length = 0;
      int lengths = 0;
      int encodings = 0;
      for (int i = 1; i < lines.length; i++) {
        if (!FIELD_LINE.matcher(lines[i]).matches()) {
          return start;
        }
        String name = lines[i].substring(0, lines[i].indexOf(':')).toLowerCase(Locale.ROOT);
        String value = lines[i].substring(lines[i].indexOf(':') + 1).strip();
        if (name.equals("content-length")) {
          if (++lengths > 1 || !value.matches("[0-9]{1,18}")) {
            return start;
          }
          length = Long.parseLong(value);
        } else if (name.equals("transfer-encoding")) {
          if (++encodings > 1 || !value.equalsIgnoreCase("chunked")) {
            return start;
          }
        }
      }
      boolean http10 = lines[0].endsWith("HTTP/1.0");
      if (encodings > 0 && (lengths > 0 || http10)) {
        return start;
      }
      targets.add(lines[0].split(" ")[1]);
      at = end + 4;
      if (encodings > 0) {
        at = chunkedEnd(all, at);
        if (at < 0) {
          return start;
        }
      } else {
        if (at + length > all.length()) {
          return start;
        }
        at += (int) length;
      }
    }
    return at;
  }

  /** Where a chunked body starting at {@code at} ends, or -1 if it breaks the rules or is cut. */
  private static int chunkedEnd(String all, int at) {
    while (true) {
      int lineEnd = all.indexOf("\r\n", at);
      if (lineEnd < 0) {
        return -1;
      }
      var chunk = CHUNK_LINE.matcher(all.substring(at, lineEnd));
      if (!chunk.matches() || chunk.group(1).length() > 8) {
        return -1;
      }
      long size = Long.parseLong(chunk.group(1), 16);
      at = lineEnd + 2;
      if (size == 0) {
        break;
      }
      if (at + size + 2 > all.length() || !all.startsWith("\r\n", at + (int) size)) {
        return -1;
      }
      at += (int) size + 2;
    }
    while (true) {
      int lineEnd = all.indexOf("\r\n", at);
      if (lineEnd < 0) {
        return -1;
      }
      if (lineEnd == at) {
        return at + 2;
      }
      if (!FIELD_LINE.matcher(all.substring(at, lineEnd)).matches()) {
        return -1;
      }
      at = lineEnd + 2;
    }
  }
}
