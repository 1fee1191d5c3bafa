package io.slime.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Which agent this is, as the hub sees it. Go Slime keeps a random id in a file so a restarted
 * agent takes over its old workers' places at the hub instead of appearing next to them; slime does
 * the same unless {@code --agentID} fixes the id.
 */
public final class AgentId {
  private static final Pattern VALID = Pattern.compile("[\\x21-\\x7e]{1,128}");
  private static final SecureRandom RANDOM = new SecureRandom();

  private AgentId() {}

  /** The configured id, else the one kept in the id file (made and saved on first use). */
  public static String resolve(AgentSettings settings) {
    if (!settings.agentId().isEmpty()) {
      return settings.agentId();
    }
    return fromFile(settings.idFile());
  }

  /**
   * The id of the agent for upstream {@code index}: with one upstream the id itself, with several
   * {@code <id>-<index>}, so the agents of one process never replace each other's workers.
   */
  public static String forUpstream(String id, int index, int upstreams) {
    return upstreams == 1 ? id : id + "-" + index;
  }

  static boolean isValid(String id) {
    return VALID.matcher(id).matches();
  }

  static String fromFile(Path file) {
    try {
      if (Files.exists(file)) {
        String id = Files.readString(file, StandardCharsets.UTF_8).strip();
        if (!id.isEmpty()) {
          if (!isValid(id)) {
            throw AgentSettings.bad(
                "id-file", file + " does not hold a valid agent id; delete it to make a new one");
          }
          return id;
        }
      }
      String id = newId();
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.writeString(file, id + "\n", StandardCharsets.UTF_8);
      return id;
    } catch (IOException e) {
      throw AgentSettings.bad("id-file", "cannot read or create " + file + ": " + e);
    }
  }

  static String newId() {
    byte[] bytes = new byte[8];
    RANDOM.nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }
}
