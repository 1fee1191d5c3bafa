package io.slime.cli;

/**
 * One command-line setting and the three places it can come from: a flag (Go Slime's name), an
 * environment variable (Go Slime's docker usage) and a config key (our HOCON).
 */
public enum Setting {
  HUB_HOST("slime.hub.host", "--host", "HOST", Type.STRING, false),
  HUB_PORT("slime.hub.port", "--port", "PORT", Type.INT, false, 0, 65535),
  HUB_SECRET("slime.hub.secret", "--secret", "SECRET", Type.STRING, true),
  HUB_APP_PASSWORD("slime.hub.app-password", "--appPassword", "APP_PASSWORD", Type.STRING, false),
  HUB_CONCURRENT(
      "slime.hub.concurrent", "--concurrent", "CONCURRENT", Type.INT, false, 0, Integer.MAX_VALUE),
  HUB_ADMIN_TOKEN(
      "slime.hub.admin-token", "--adminToken", "ADMIN_TOKEN", Type.STRING, false),
  HUB_CLUSTER_HOST(
      "slime.hub.cluster.host", "--clusterHost", "CLUSTER_HOST", Type.STRING, false),
  HUB_CLUSTER_PORT(
      "slime.hub.cluster.port", "--clusterPort", "CLUSTER_PORT", Type.INT, false, 0, 65535),
  HUB_CLUSTER_SEEDS("slime.hub.cluster.seeds", "--seed", "SEEDS", Type.LIST, false),
  AGENT_TOKEN("slime.agent.token", "--token", "TOKEN", Type.STRING, true),
  AGENT_HUB("slime.agent.hub", "--hub", "HUB", Type.STRING, true),
  AGENT_UPSTREAMS("slime.agent.upstreams", "--upstream", "UPSTREAM", Type.LIST, true),
  AGENT_NUM_WORKER(
      "slime.agent.num-worker", "--numWorker", "NUM_WORKER", Type.INT, false, 1, Integer.MAX_VALUE),
  AGENT_ID("slime.agent.agent-id", "--agentID", "AGENT_ID", Type.STRING, false);

  /** How a value is read from the environment and checked in the merged config. */
  public enum Type {
    STRING,
    INT,
    /** Comma-separated in flags and the environment, a HOCON list in files. */
    LIST
  }

  private final String key;
  private final String flag;
  private final String envVar;
  private final Type type;
  private final boolean required;
  private final int min;
  private final int max;

  Setting(String key, String flag, String envVar, Type type, boolean required) {
    this(key, flag, envVar, type, required, Integer.MIN_VALUE, Integer.MAX_VALUE);
  }

  Setting(String key, String flag, String envVar, Type type, boolean required, int min, int max) {
    this.key = key;
    this.flag = flag;
    this.envVar = envVar;
    this.type = type;
    this.required = required;
    this.min = min;
    this.max = max;
  }

  public String key() {
    return key;
  }

  public String flag() {
    return flag;
  }

  public String envVar() {
    return envVar;
  }

  public Type type() {
    return type;
  }

  /** Required means the merged config must hold a non-empty value, whatever its source. */
  public boolean required() {
    return required;
  }

  int min() {
    return min;
  }

  int max() {
    return max;
  }
}
