package io.slime.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code slime.*} keys of a configuration that nothing reads: almost always a typo, which would
 * otherwise leave the default in force without a word.
 */
final class UnknownKeys {

  /** Keys whose names the user chooses: route names, a route's protocols, an agent's labels. */
  private static final List<Pattern> OPEN =
      List.of(
          Pattern.compile("slime\\.hub\\.routing\\.routes\\.[^.]+\\.(path|policy)"),
          Pattern.compile("slime\\.hub\\.routing\\.routes\\.[^.]+\\.protocols\\.[^.]+"),
          Pattern.compile("slime\\.agent\\.labels\\.[^.]+"));

  private UnknownKeys() {}

  /** One line per unknown key: its full path, with the known key it most resembles. */
  static List<String> in(Config config, Config reference) {
    if (!config.hasPath("slime")) {
      return List.of();
    }
    Set<String> known = new HashSet<>();
    leaves(reference.root(), List.of(), known);
    List<String> unknown = new ArrayList<>();
    for (Map.Entry<String, ConfigValue> entry : config.getConfig("slime").entrySet()) {
      String key = "slime." + entry.getKey();
      if (!known.contains(key) && OPEN.stream().noneMatch(p -> p.matcher(key).matches())) {
        String like = closest(key, known);
        unknown.add(key + (like == null ? "" : " (did you mean " + like + "?)"));
      }
    }
    unknown.sort(null);
    return unknown;
  }

  /** Every leaf path under {@code object}, nulls included: {@code weight = null} is "not set". */
  private static void leaves(ConfigObject object, List<String> prefix, Set<String> into) {
    for (Map.Entry<String, ConfigValue> entry : object.entrySet()) {
      List<String> path = new ArrayList<>(prefix);
      path.add(entry.getKey());
      if (entry.getValue() instanceof ConfigObject child && !child.isEmpty()) {
        leaves(child, path, into);
      } else {
        into.add(ConfigUtil.joinPath(path));
      }
    }
  }

  /** The known key at most two edits away, if there is one. */
  private static String closest(String key, Set<String> known) {
    String best = null;
    int bestDistance = 3;
    for (String candidate : known) {
      int d = distance(key, candidate);
      if (d < bestDistance) {
        bestDistance = d;
        best = candidate;
      }
    }
    return best;
  }

  /** Levenshtein distance. */
  private static int distance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }
}
