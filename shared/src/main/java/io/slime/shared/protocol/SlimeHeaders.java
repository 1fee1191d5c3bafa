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

  // Hub to application.
  public static final String AGENT = "Slime-Agent";

  // Agent to hub, on the WebSocket upgrade.
  public static final String AGENT_TOKEN = "Slime-Agent-Token";
  public static final String AGENT_ID = "Slime-Agent-Id";
  public static final String WORKER_INDEX = "Slime-Worker-Index";

  /** Milliseconds between the agent's heartbeats; the hub sends its own at the same pace. */
  public static final String HEARTBEAT = "Slime-Heartbeat";

  private SlimeHeaders() {}
}
