package io.slime.agent.upstream;

import io.slime.shared.http.ParsedValues;
import io.slime.shared.net.ServiceAddress;
import io.slime.shared.protocol.Frame;
import io.slime.shared.protocol.Frame.Failure.Kind;
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
import org.apache.pekko.http.javadsl.model.headers.RawRequestURI;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * Turns a hub's {@link Frame.RequestStart} (and its streamed body) into the request for one
 * upstream.
 *
 * <p>It writes nothing it cannot write as it is: Pekko renders each char of a header value as its
 * low byte, so U+0100 would reach the upstream as NUL. A header name that is not a token, or a
 * value with a control character (other than HTAB) or a char above U+00FF, refuses the request;
 * chars U+0080 to U+00FF go out as the single bytes (obs-text) they stand for.
 */
public final class UpstreamRequests {

  /** The agent will not send this request as it is; {@link #kind} says what the hub answers. */
  public static final class RefusedException extends IllegalArgumentException {
    private final Kind kind;

    RefusedException(Kind kind, String message) {
      super(message);
      this.kind = kind;
    }

    public Kind kind() {
      return kind;
    }
  }

  /** The asterisk form of OPTIONS, which names the server rather than a resource. */
  private static final String ASTERISK = "*";

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
   * <p>{@code OPTIONS *} goes out as {@code OPTIONS *}, without the base path: it asks about the
   * server as a whole, which a path prefix cannot narrow.
   *
   * @throws RefusedException when the method, target or a header cannot be sent as it is
   */
  public HttpRequest build(Frame.RequestStart start, Source<ByteString, NotUsed> body) {
    HttpMethod method;
    try {
      method =
          HttpMethods.lookup(start.method())
              .orElseGet(
                  () ->
                      HttpMethods.custom(
                          start.method(), false, false, RequestEntityAcceptances.Tolerated));
    } catch (RuntimeException e) {
      throw new RefusedException(Kind.BAD_TARGET, "invalid method '" + start.method() + "'");
    }
    List<HttpHeader> headers = headers(start.headers());
    HttpRequest request =
        HttpRequest.create()
            .withMethod(method)
            .withHeaders(headers)
            .withEntity(entity(start, body));
    if (start.target().equals(ASTERISK) && method.equals(HttpMethods.OPTIONS)) {
      // Pekko has no asterisk-form URI; the raw target header is what it renders instead.
      return request.addHeader(RawRequestURI.create(ASTERISK));
    }
    String target = start.target().isEmpty() ? "/" : start.target();
    try {
      return request.withUri(Uri.create(basePath + target, Uri.RELAXED));
    } catch (RuntimeException e) {
      throw new RefusedException(Kind.BAD_TARGET, "invalid target '" + target + "'");
    }
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
      check(h);
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

  /** Refuses a header that Pekko would not write byte for byte as it stands. */
  static void check(Header header) {
    String name = header.name();
    if (name.isEmpty()) {
      throw new RefusedException(Kind.BAD_HEADER, "a header without a name");
    }
    for (int i = 0; i < name.length(); i++) {
      if (!tchar(name.charAt(i))) {
        throw new RefusedException(
            Kind.BAD_HEADER, "header name '" + printable(name) + "' is not a token");
      }
    }
    String value = header.value();
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if ((c < 0x20 && c != '\t') || c == 0x7F || c > 0xFF) {
        throw new RefusedException(
            Kind.BAD_HEADER,
            String.format("header %s holds U+%04X, which cannot be sent as it is", name, (int) c));
      }
    }
  }

  private static boolean tchar(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }

  /** Text as a log line may show it: anything but visible ASCII as an escape, at most 100 chars. */
  public static String printable(String text) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < text.length() && i < 100; i++) {
      char c = text.charAt(i);
      out.append(c > 0x20 && c < 0x7F ? String.valueOf(c) : String.format("\\u%04x", (int) c));
    }
    return out.toString();
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
      throw new RefusedException(
          Kind.BAD_HEADER, "invalid Content-Type '" + printable(value) + "'");
    }
  }
}
