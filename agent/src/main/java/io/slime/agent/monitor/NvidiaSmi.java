package io.slime.agent.monitor;

import io.slime.shared.agent.AgentReport.Gpu;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The GPUs of the machine as NVIDIA's {@code nvidia-smi} lists them. Parsing is apart from running
 * the command, so tests feed it sample output.
 */
final class NvidiaSmi {
  private static final List<String> QUERY =
      List.of(
          "--query-gpu=index,name,utilization.gpu,memory.used,memory.total",
          "--format=csv,noheader,nounits");

  private NvidiaSmi() {}

  /** The first executable {@code nvidia-smi} in a PATH-style list of folders. */
  static Optional<Path> find(String pathVariable) {
    if (pathVariable == null) {
      return Optional.empty();
    }
    for (String folder : pathVariable.split(File.pathSeparator)) {
      if (folder.isBlank()) {
        continue;
      }
      try {
        Path candidate = Path.of(folder, "nvidia-smi");
        if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
          return Optional.of(candidate);
        }
      } catch (InvalidPathException e) {
        // Not a folder this system can name: nothing to find there.
      }
    }
    return Optional.empty();
  }

  /**
   * Runs {@code executable} with the GPU query and parses its answer. Its output is read once it
   * exited: a few lines per GPU fit the pipe's buffer.
   *
   * @throws IOException when it cannot start, fails, or takes longer than {@code timeout} (then it
   *     is killed)
   */
  static List<Gpu> query(Path executable, Duration timeout)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(executable.toString());
    command.addAll(QUERY);
    Process process =
        new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IOException("nvidia-smi did not answer within " + timeout.toMillis() + " ms");
      }
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (process.exitValue() != 0) {
        throw new IOException(
            "nvidia-smi exited with " + process.exitValue() + ": " + firstLine(output));
      }
      return parse(output);
    } finally {
      process.destroyForcibly();
    }
  }

  /**
   * One GPU per line of {@code index, name, utilization.gpu, memory.used, memory.total}. A value
   * the GPU does not report ({@code [N/A]}, {@code [Not Supported]}) reads as 0; a line that is not
   * a GPU is skipped. The name may hold commas: it is everything between the first field and the
   * last three.
   */
  static List<Gpu> parse(String csv) {
    List<Gpu> gpus = new ArrayList<>();
    for (String line : csv.split("\n")) {
      String[] fields = line.split(",");
      if (fields.length < 5) {
        continue;
      }
      int last = fields.length - 1;
      int index;
      try {
        index = Integer.parseInt(fields[0].strip());
      } catch (NumberFormatException e) {
        continue;
      }
      StringBuilder name = new StringBuilder(fields[1].strip());
      for (int i = 2; i < last - 2; i++) {
        name.append(',').append(fields[i]);
      }
      gpus.add(
          new Gpu(
              index,
              name.toString().strip(),
              number(fields[last - 2]),
              (long) number(fields[last - 1]),
              (long) number(fields[last])));
    }
    return List.copyOf(gpus);
  }

  private static double number(String field) {
    try {
      double value = Double.parseDouble(field.strip());
      return Double.isFinite(value) && value >= 0 ? value : 0;
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static String firstLine(String text) {
    String stripped = text.strip();
    int end = stripped.indexOf('\n');
    return end < 0 ? stripped : stripped.substring(0, end);
  }
}
