package io.slime.cli;

import io.slime.shared.agent.AgentTerms;

/**
 * One command-line setting and the three places it can come from: a flag (Go Slime's name), an
 * environment variable (Go Slime's docker usage; null for settings that have none) and a config key
 * (our HOCON).
 */
public enum Setting {
  HUB_HOST("slime.hub.host", "--host", "HOST", Type.STRING, false),
  HUB_PORT("slime.hub.port", "--port", "PORT", Type.INT, false, 0, 65535),
  HUB_SECRET("slime.hub.secret", "--secret", "SECRET", Type.STRING, true),
  HUB_APP_PASSWORD("slime.hub.app-password", "--appPassword", "APP_PASSWORD", Type.STRING, false),
  HUB_CONCURRENT(
      "slime.hub.concurrent", "--concurrent", "CONCURRENT", Type.INT, false, 0, Integer.MAX_VALUE),
  HUB_ADMIN_TOKEN("slime.hub.admin-token", "--adminToken", "ADMIN_TOKEN", Type.STRING, false),
  HUB_CLUSTER_HOST("slime.hub.cluster.host", "--clusterHost", "CLUSTER_HOST", Type.STRING, false),
  HUB_CLUSTER_PORT(
      "slime.hub.cluster.port", "--clusterPort", "CLUSTER_PORT", Type.INT, false, 0, 65535),
  HUB_CLUSTER_SEEDS("slime.hub.cluster.seeds", "--seed", "SEEDS", Type.LIST, false),
  HUB_TLS_CERT("slime.hub.tls.cert", "--tlsCert", "TLS_CERT", Type.STRING, false),
  HUB_TLS_KEY("slime.hub.tls.key", "--tlsKey", "TLS_KEY", Type.STRING, false),
  AGENT_TOKEN("slime.agent.token", "--token", "TOKEN", Type.STRING, true),
  AGENT_HUB("slime.agent.hub", "--hub", "HUB", Type.STRING, true),
  AGENT_UPSTREAMS("slime.agent.upstreams", "--upstream", "UPSTREAM", Type.LIST, true),
  AGENT_NUM_WORKER(
      "slime.agent.num-worker", "--numWorker", "NUM_WORKER", Type.INT, false, 1, Integer.MAX_VALUE),
  AGENT_ID("slime.agent.agent-id", "--agentID", "AGENT_ID", Type.STRING, false),
  AGENT_CA_CERT("slime.agent.ca-cert", "--caCert", "CA_CERT", Type.STRING, false),
  AGENT_WEIGHT(
      "slime.agent.weight", "--weight", "WEIGHT", Type.INT, false, 0, AgentTerms.MAX_WEIGHT),
  AGENT_LABELS("slime.agent.labels", "--label", "LABELS", Type.VERBATIM, false),
  AGENT_RPM("slime.agent.rpm", "--rpm", "RPM", Type.LONG, false, 0, Long.MAX_VALUE),
  AGENT_BPM("slime.agent.bpm", "--bpm", "BPM", Type.VERBATIM, false),
  AGENT_HEALTH_PATH(
      "slime.agent.health-check.path", "--healthPath", "HEALTH_PATH", Type.STRING, false),
  AGENT_HEALTH_INTERVAL(
      "slime.agent.health-check.interval", "--healthInterval", null, Type.VERBATIM, false),
  AGENT_HEALTH_TIMEOUT(
      "slime.agent.health-check.timeout", "--healthTimeout", null, Type.VERBATIM, false),
  AGENT_HEALTH_FAILURES(
      "slime.agent.health-check.unhealthy-after",
      "--healthFailures",
      null,
      Type.INT,
      false,
      1,
      Integer.MAX_VALUE),
  AGENT_HEALTH_SUCCESSES(
      "slime.agent.health-check.healthy-after",
      "--healthSuccesses",
      null,
      Type.INT,
      false,
      1,
      Integer.MAX_VALUE),
  AGENT_RESPONSE_TIMEOUT(
      "slime.agent.response-timeout",
      "--responseTimeout",
      "RESPONSE_TIMEOUT",
      Type.DURATION,
      false),
  AGENT_RESPONSE_BODY_IDLE_TIMEOUT(
      "slime.agent.response-body-idle-timeout",
      "--responseBodyIdleTimeout",
      "RESPONSE_BODY_IDLE_TIMEOUT",
      Type.DURATION,
      false);

  /** How a value is read from the environment and checked in the merged config. */
  public enum Type {
    STRING,
    INT,
    LONG,
    /** Comma-separated in flags and the environment, a HOCON list in files. */
    LIST,
    /** A Go duration (1m30s) in flags and the environment, a HOCON duration in files. */
    DURATION,
    /**
     * Passed on as given (a byte size, labels, a duration): the module's own settings read and
     * check it, and name its key when it is wrong.
     */
    VERBATIM
  }

  private final String key;
  private final String flag;
  private final String envVar;
  private final Type type;
  private final boolean required;
  private final long min;
  private final long max;

  Setting(String key, String flag, String envVar, Type type, boolean required) {
    this(key, flag, envVar, type, required, Integer.MIN_VALUE, Integer.MAX_VALUE);
  }

  Setting(String key, String flag, String envVar, Type type, boolean required, long min, long max) {
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

  long min() {
    return min;
  }

  long max() {
    return max;
  }
}
