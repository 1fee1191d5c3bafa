package io.slime.hub.http;

import io.slime.hub.model.ProxyError;
import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.ParsingErrorHandler;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.scaladsl.model.ErrorInfo;
import org.apache.pekko.http.scaladsl.model.StatusCode;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;

/**
 * The hub's answer to a request Pekko's parser refuses (a target too long or malformed, too many
 * headers, an unknown method, a missing Host): the status Pekko chose, with a Slime-Error like
 * every answer the hub makes, and Connection: close, since Pekko reads nothing after it. Set as
 * {@code pekko.http.server.parsing.error-handler}; Pekko makes it with its no-argument constructor.
 */
public final class ParsingRefusals extends ParsingErrorHandler {

  @Override
  public HttpResponse handle(
      StatusCode status, ErrorInfo info, LoggingAdapter log, ServerSettings settings) {
    ProxyError error = forStatus(status.intValue());
    log.warning("Refused a request ({}): {}", error.code(), info.summary());
    HttpResponse answer = error.closingResponse(info.summary());
    return error.status() == status.intValue() ? answer : answer.withStatus(status.intValue());
  }

  private static ProxyError forStatus(int status) {
    return switch (status) {
      case 408 -> ProxyError.REQUEST_TIMEOUT;
      case 413 -> ProxyError.BODY_TOO_LARGE;
      case 414 -> ProxyError.URI_TOO_LONG;
      case 422 -> ProxyError.UNPROCESSABLE;
      case 431 -> ProxyError.HEADERS_TOO_LARGE;
      case 501 -> ProxyError.NOT_IMPLEMENTED;
      case 505 -> ProxyError.VERSION_NOT_SUPPORTED;
      default -> ProxyError.BAD_REQUEST;
    };
  }
}
