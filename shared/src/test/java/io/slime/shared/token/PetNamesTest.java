package io.slime.shared.token;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PetNamesTest {

  @Test
  void shouldMakeAdjectiveDashAnimal() {
    for (int i = 0; i < 100; i++) {
      String name = PetNames.random();
      String[] parts = name.split("-");
      assertEquals(2, parts.length, name);
      assertTrue(PetNames.ADJECTIVES.contains(parts[0]), name);
      assertTrue(PetNames.ANIMALS.contains(parts[1]), name);
    }
  }

  @Test
  void shouldHaveAboutFiftyDistinctLowercaseWordsEach() {
    for (List<String> words : List.of(PetNames.ADJECTIVES, PetNames.ANIMALS)) {
      assertTrue(words.size() >= 50, "size " + words.size());
      assertEquals(words.size(), new HashSet<>(words).size(), "duplicates in " + words);
      words.forEach(w -> assertTrue(w.matches("[a-z]+"), w));
    }
  }

  @Test
  void shouldVary() {
    Random seeded = new Random(1);
    Set<String> names = new HashSet<>();
    for (int i = 0; i < 50; i++) {
      names.add(PetNames.random(seeded));
    }
    assertTrue(names.size() > 40, "only " + names.size() + " distinct names");
  }
}
