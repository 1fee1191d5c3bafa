package io.slime.hub.model;

import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.Connection;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.model.headers.RetryAfter;

/**
 * Every status the hub answers by itself, never an upstream's. Each carries a {@code Slime-Error}
 * code so clients can tell the hub's answers from their upstream's.
 */
public enum ProxyError {
  WRONG_APP_PASSWORD(401, "unauthorized", "missing or wrong Slime-App-Password", false),
  RESERVED_PATH(404, "reserved-path", "paths under /_slime/ belong to the hub", false),
  ADMIN_UNAUTHORIZED(401, "unauthorized", "missing or wrong admin token", false),
  NOT_FOUND(404, "not-found", "no such admin endpoint or agent", false),
  METHOD_NOT_ALLOWED(405, "method-not-allowed", "the admin endpoint takes another method", false),
  BAD_TOKEN(400, "bad-token", "not a token of this hub", false),
  BAD_CERTIFICATE(
      422,
      "bad-certificate",
      "the new certificate files are refused; the old one is served",
      false),
  AGENT_TOKEN_REFUSED(401, "agent-token-refused", "agent token refused", false),
  BAD_AGENT_HANDSHAKE(
      400, "bad-agent-handshake", "missing or malformed agent id or worker index", false),
  AGENT_ID_TAKEN(409, "agent-id-taken", "this agent id belongs to another token's workers", false),
  AGENT_SOCKET_FAILED(
      503, "agent-socket-failed", "the hub could not set up the worker connection in time", true),
  NO_AGENT(503, "no-agent", "no agent is connected; send Slime-Block: 1 to wait for one", false),
  ALL_BUSY(503, "no-idle-worker", "every worker is busy; send Slime-Block: 1 to wait", false),
  NO_MATCHING_WORKER(
      503,
      "no-matching-worker",
      "no connected worker accepts this scope and path; send Slime-Block: 1 to wait",
      false),
  NO_AVAILABLE_WORKER(
      503,
      "no-available-worker",
      "every worker that accepts this request is draining, unhealthy or ejected; send Slime-Block: 1"
          + " to wait",
      false),
  AGENT_LIMIT(
      429,
      "agent-rate-limited",
      "every agent that accepts this request used up its requests or bytes per minute",
      true),
  CLIENT_LIMIT(429, "client-rate-limited", "too many requests from this client", true),
  BAD_HEADER(400, "bad-header", "a Slime-* header is malformed", false),
  BAD_FRAMING(
      400,
      "bad-framing",
      "the request's Content-Length, Transfer-Encoding or chunks are malformed",
      false),
  BAD_REQUEST(400, "bad-request", "the request is malformed", false),
  REQUEST_TIMEOUT(408, "request-timeout", "the request did not arrive in time", false),
  BODY_TOO_LARGE(413, "body-too-large", "the request body is too large", false),
  URI_TOO_LONG(414, "uri-too-long", "the request target is too long", false),
  UNPROCESSABLE(422, "unprocessable-request", "this method takes no request body", false),
  HEADERS_TOO_LARGE(431, "headers-too-large", "the request's headers are too large", false),
  NOT_IMPLEMENTED(
      501, "not-implemented", "the request's method or transfer coding is not supported", false),
  VERSION_NOT_SUPPORTED(
      505, "http-version-not-supported", "only HTTP/1.0 and HTTP/1.1 are served", false),
  TOO_MANY_CONNECTIONS(
      503, "too-many-connections", "the hub holds as many connections as it can", true),
  QUEUE_FULL(503, "queue-full", "too many requests are waiting for a worker", true),
  WAIT_TIMEOUT(503, "wait-timeout", "no worker became free in time", true),
  AGENT_LOST(502, "agent-lost", "the agent serving this request disconnected", false),
  UPSTREAM_FAILED(502, "upstream-failed", "the upstream failed", false),
  UPSTREAM_TIMEOUT(504, "upstream-timeout", "the upstream did not answer in time", false),
  BAD_TARGET(400, "bad-target", "the agent cannot send this request target as it is", false),
  SHUTTING_DOWN(503, "shutting-down", "the hub is shutting down", true);

  private static final long RETRY_AFTER_SECONDS = 1;

  private final int status;
  private final String code;
  private final String reason;
  private final boolean retryAfter;

  ProxyError(int status, String code, String reason, boolean retryAfter) {
    this.status = status;
    this.code = code;
    this.reason = reason;
    this.retryAfter = retryAfter;
  }

  public int status() {
    return status;
  }

  /** The Slime-Error code. */
  public String code() {
    return code;
  }

  public String reason() {
    return reason;
  }

  /** The {@code Slime-Error} header every answer of this kind carries. */
  public HttpHeader header() {
    return RawHeader.create("Slime-Error", code);
  }

  public HttpResponse response() {
    return response(reason);
  }

  /** The answer with a more specific reason, such as the agent's account of an upstream failure. */
  public HttpResponse response(String detail) {
    return response(detail, RETRY_AFTER_SECONDS);
  }

  /**
   * The answer after which the connection closes: sent when what follows on the connection was not
   * read, so the client knows its later requests were not handled.
   */
  public HttpResponse closingResponse(String detail) {
    return response(detail).addHeader(Connection.create("close"));
  }

  /** The answer with a reason and, where it has one, this Retry-After. */
  public HttpResponse response(String detail, long retryAfterSeconds) {
    HttpResponse response =
        HttpResponse.create()
            .withStatus(status)
            .addHeader(header())
            .withEntity(ContentTypes.TEXT_PLAIN_UTF8, "slime: " + detail + "\n");
    return retryAfter ? response.addHeader(RetryAfter.create(retryAfterSeconds)) : response;
  }
}
