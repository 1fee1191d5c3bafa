package io.slime.shared.token;

import java.security.SecureRandom;
import java.util.List;
import java.util.Random;

/** Readable random names such as {@code brave-otter}, for agent tokens registered without one. */
public final class PetNames {

  static final List<String> ADJECTIVES =
      List.of(
          "agile",
          "amber",
          "bold",
          "brave",
          "bright",
          "calm",
          "clever",
          "cosmic",
          "crisp",
          "curious",
          "daring",
          "eager",
          "fancy",
          "fast",
          "fearless",
          "fluffy",
          "gentle",
          "giddy",
          "golden",
          "happy",
          "hardy",
          "humble",
          "jolly",
          "keen",
          "kind",
          "lively",
          "lucky",
          "mellow",
          "merry",
          "mighty",
          "nimble",
          "noble",
          "patient",
          "plucky",
          "polite",
          "proud",
          "quick",
          "quiet",
          "rapid",
          "shiny",
          "silent",
          "sleepy",
          "snappy",
          "steady",
          "sunny",
          "swift",
          "tidy",
          "witty",
          "zesty",
          "zippy");

  static final List<String> ANIMALS =
      List.of(
          "badger", "beaver", "bison", "camel", "cheetah", "cobra", "condor", "coyote", "crane",
          "dingo", "dolphin", "eagle", "falcon", "ferret", "finch", "fox", "gecko", "gibbon",
          "heron", "hippo", "ibis", "jackal", "jaguar", "koala", "lemur", "lynx", "marmot", "moose",
          "narwhal", "newt", "ocelot", "orca", "otter", "owl", "panda", "pelican", "puffin",
          "quail", "rabbit", "raven", "salmon", "seal", "sloth", "tapir", "tiger", "toucan",
          "walrus", "weasel", "wombat", "yak");

  private static final Random RANDOM = new SecureRandom();

  private PetNames() {}

  /** A random "adjective-animal" name. */
  public static String random() {
    return random(RANDOM);
  }

  /** A random "adjective-animal" name drawn with the given source (tests pass a seeded one). */
  public static String random(Random random) {
    return ADJECTIVES.get(random.nextInt(ADJECTIVES.size()))
        + "-"
        + ANIMALS.get(random.nextInt(ANIMALS.size()));
  }
}
