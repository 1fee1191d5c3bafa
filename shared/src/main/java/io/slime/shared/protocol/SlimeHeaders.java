package io.slime.shared.protocol;

/** Header names and paths of slime's user contract and of the hub-agent handshake. */
public final class SlimeHeaders {
  /** Path prefix the hub keeps for itself; every other path belongs to applications. */
  public static final String RESERVED_PREFIX = "/_slime/";

  /** Where agents open their worker WebSockets. */
  public static final String CONNECT_PATH = RESERVED_PREFIX + "connect";

  /** Lowercase prefix of the control headers that are never sent upstream. */
  public static final String CONTROL_PREFIX = "slime-";

  // Application to hub.
  public static final String APP_PASSWORD = "Slime-App-Password";
  public static final String BLOCK = "Slime-Block";
  public static final String SCOPE = "Slime-Scope";
  public static final String BLOCK_TIMEOUT = "Slime-Block-Timeout";
  public static final String PRIORITY = "Slime-Priority";
  public static final String SELECT = "Slime-Select";

  // Hub to application.
  public static final String AGENT = "Slime-Agent";

  /** On every answer the hub makes itself (agents' refused upgrades too): what it refused. */
  public static final String ERROR = "Slime-Error";

  // Agent to hub, on the WebSocket upgrade.
  public static final String AGENT_TOKEN = "Slime-Agent-Token";
  public static final String AGENT_ID = "Slime-Agent-Id";
  public static final String WORKER_INDEX = "Slime-Worker-Index";
  public static final String AGENT_VERSION = "Slime-Agent-Version";

  /** The agent's own terms (see AgentTerms); the token's, where it sets them, win. */
  public static final String AGENT_WEIGHT = "Slime-Agent-Weight";

  public static final String AGENT_LABELS = "Slime-Agent-Labels";
  public static final String AGENT_RPM = "Slime-Agent-Rpm";
  public static final String AGENT_BPM = "Slime-Agent-Bpm";

  /** Milliseconds between the agent's heartbeats; the hub sends its own at the same pace. */
  public static final String HEARTBEAT = "Slime-Heartbeat";

  private SlimeHeaders() {}
}
