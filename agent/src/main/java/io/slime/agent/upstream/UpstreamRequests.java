package io.slime.agent.upstream;

import io.slime.shared.http.ParsedValues;
import io.slime.shared.net.ServiceAddress;
import io.slime.shared.protocol.Frame;
import io.slime.shared.protocol.Header;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethod;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.RequestEntity;
import org.apache.pekko.http.javadsl.model.RequestEntityAcceptances;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.http.javadsl.model.headers.Host;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * Turns a hub's {@link Frame.RequestStart} (and its streamed body) into the request for one
 * upstream.
 */
public final class UpstreamRequests {
  private static final ParsedValues<HttpHeader> USER_AGENTS =
      new ParsedValues<>(value -> HttpHeader.parse("User-Agent", value));
  private static final ParsedValues<ContentType> CONTENT_TYPES =
      new ParsedValues<>(UpstreamRequests::parseContentType);

  private final String basePath;
  private final Host host;

  public UpstreamRequests(ServiceAddress upstream) {
    this.basePath = upstream.basePath();
    boolean defaultPort = upstream.port() == (upstream.secure() ? 443 : 80);
    this.host =
        defaultPort ? Host.create(upstream.host()) : Host.create(upstream.host(), upstream.port());
  }

  /**
   * The upstream request for {@code start}. The body streams from {@code body} without being
   * collected; when {@code body} is null the start frame carried the whole body.
   *
   * @throws IllegalArgumentException when the method, target or a header cannot be sent
   */
  public HttpRequest build(Frame.RequestStart start, Source<ByteString, NotUsed> body) {
    HttpMethod method =
        HttpMethods.lookup(start.method())
            .orElseGet(
                () ->
                    HttpMethods.custom(
                        start.method(), false, false, RequestEntityAcceptances.Tolerated));
    String target = start.target().isEmpty() ? "/" : start.target();
    Uri uri;
    try {
      uri = Uri.create(basePath + target, Uri.RELAXED);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("invalid target '" + target + "'", e);
    }
    return HttpRequest.create()
        .withMethod(method)
        .withUri(uri)
        .withHeaders(headers(start.headers()))
        .withEntity(entity(start, body));
  }

  /**
   * A bodiless GET of {@code target} as the hub's requests reach this upstream: under its base
   * path, with its Host.
   *
   * @throws IllegalArgumentException when the target is not a valid URI
   */
  public HttpRequest get(String target) {
    return HttpRequest.create().withUri(Uri.create(basePath + target, Uri.RELAXED)).addHeader(host);
  }

  /** Whether a failed attempt of this request may be sent again: idempotent and not streamed. */
  public static boolean replayable(HttpRequest request) {
    return request.method().isIdempotent() && request.entity().isStrict();
  }

  private List<HttpHeader> headers(List<Header> headers) {
    List<HttpHeader> out = new ArrayList<>(headers.size() + 1);
    for (Header h : headers) {
      switch (h.name().toLowerCase(Locale.ROOT)) {
        case "content-type", "content-length", "transfer-encoding", "host" -> {
          // Carried by the entity, or replaced by the upstream's own Host below.
        }
        // Pekko drops a raw User-Agent and writes its own; a modelled header goes through.
        case "user-agent" -> out.add(USER_AGENTS.of(h.value()));
        default -> out.add(RawHeader.create(h.name(), h.value()));
      }
    }
    out.add(host);
    return out;
  }

  private static RequestEntity entity(Frame.RequestStart start, Source<ByteString, NotUsed> body) {
    ContentType contentType = contentType(start.contentType());
    if (body == null) {
      return HttpEntities.create(contentType, start.body());
    }
    if (start.contentLength() >= 0) {
      return HttpEntities.create(contentType, start.contentLength(), body);
    }
    return HttpEntities.createChunked(contentType, body);
  }

  private static ContentType contentType(String value) {
    if (value.isEmpty()) {
      return ContentTypes.NO_CONTENT_TYPE;
    }
    return CONTENT_TYPES.of(value);
  }

  private static ContentType parseContentType(String value) {
    try {
      return ContentTypes.parse(value);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("invalid Content-Type '" + value + "'");
    }
  }
}
