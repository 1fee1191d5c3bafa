package io.slime.shared.http;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Remembers what parsing a header value gave. Pekko wants Date, Server, Content-Type and the like
 * as parsed models, parsing them costs more than the rest of a request, and peers send the same few
 * values over and over (Date changes once a second).
 */
public final class ParsedValues<T> {
  private static final int MAX_ENTRIES = 256;

  private final Function<String, T> parse;
  private final ConcurrentHashMap<String, T> parsed = new ConcurrentHashMap<>();

  public ParsedValues(Function<String, T> parse) {
    this.parse = parse;
  }

  public T of(String value) {
    T known = parsed.get(value);
    if (known != null) {
      return known;
    }
    T fresh = parse.apply(value);
    if (parsed.size() >= MAX_ENTRIES) {
      parsed.clear(); // old dates and one-off values: start over rather than grow
    }
    parsed.put(value, fresh);
    return fresh;
  }
}
