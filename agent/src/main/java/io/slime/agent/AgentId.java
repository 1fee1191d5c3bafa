package io.slime.agent;

import io.slime.agent.settings.AgentSettings;
import io.slime.shared.net.ServiceAddress;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Which agent this is, as the hub sees it. Go Slime keeps a random id in a file so a restarted
 * agent takes over its old workers' places at the hub instead of appearing next to them; slime does
 * the same unless {@code --agentID} fixes the id. The file is per user, not per process, so the id
 * made from it also names the upstream: several agents on one host (one per GPU) share the file but
 * never each other's places.
 */
public final class AgentId {
  private static final SecureRandom RANDOM = new SecureRandom();

  private AgentId() {}

  /**
   * The id of each agent, in the order of {@code settings.upstreams()}. A configured id is used as
   * it is with one upstream and as {@code <id>-<index>} with several. Without one, each agent is
   * {@code <file id>-<upstream digest>}: stable across restarts, and different for each upstream.
   */
  public static List<String> resolve(AgentSettings settings) {
    List<ServiceAddress> upstreams = settings.upstreams();
    List<String> ids = new ArrayList<>(upstreams.size());
    if (!settings.agentId().isEmpty()) {
      for (int i = 0; i < upstreams.size(); i++) {
        ids.add(upstreams.size() == 1 ? settings.agentId() : settings.agentId() + "-" + i);
      }
      return List.copyOf(ids);
    }
    String fileId = fromFile(settings.idFile());
    for (ServiceAddress upstream : upstreams) {
      ids.add(fileId + "-" + digest(upstream));
    }
    return List.copyOf(ids);
  }

  /** Eight hex digits that tell one upstream address from another. */
  static String digest(ServiceAddress upstream) {
    try {
      byte[] hash =
          MessageDigest.getInstance("SHA-256")
              .digest(upstream.toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(hash, 0, 4);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  static String fromFile(Path file) {
    try {
      if (Files.exists(file)) {
        String id = Files.readString(file, StandardCharsets.UTF_8).strip();
        if (!id.isEmpty()) {
          if (!AgentSettings.isValidAgentId(id)) {
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
