package io.slime.cli;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.slime.shared.agent.Labels;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * What {@code agent run} and {@code hub register} share in reading an agent's terms: labels from
 * repeated (and comma-separated) {@code --label k=v}, and a byte size for {@code --bpm}.
 */
final class TermOptions {

  private TermOptions() {}

  /**
   * The labels of every {@code --label} given, later ones winning; empty when none.
   *
   * @throws UsageException naming the entry that is not a valid {@code key=value}
   */
  static Map<String, String> labels(List<String> entries) {
    Map<String, String> labels = new TreeMap<>();
    if (entries == null) {
      return labels;
    }
    for (String entry : entries) {
      if (entry.isBlank()) {
        continue;
      }
      try {
        Labels.put(labels, entry.strip());
      } catch (IllegalArgumentException e) {
        throw new UsageException("Invalid value for option '--label': " + e.getMessage());
      }
    }
    return labels;
  }

  /** Reads {@code 10MiB}, {@code 500kB} or a plain number of bytes, as the config files do. */
  static final class ByteSizeConverter implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      if (value.strip().startsWith("-")) {
        throw new TypeConversionException("must not be negative, was " + value.strip());
      }
      try {
        return ConfigFactory.parseMap(Map.of("size", value.strip())).getBytes("size");
      } catch (ConfigException e) {
        throw new TypeConversionException(
            "'" + value + "' is not a byte size (examples: 1048576, 512KiB, 10MiB, 1GB)");
      }
    }
  }
}
