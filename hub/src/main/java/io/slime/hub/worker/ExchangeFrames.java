package io.slime.hub.worker;

import io.slime.hub.model.ProxiedRequest;
import io.slime.shared.http.HeaderRules;
import io.slime.shared.http.ParsedValues;
import io.slime.shared.protocol.BodyPieces;
import io.slime.shared.protocol.Frame;
import io.slime.shared.protocol.Header;
import io.slime.shared.protocol.SlimeHeaders;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.LongConsumer;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.RequestEntity;
import org.apache.pekko.http.javadsl.model.ResponseEntity;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.SharedKillSwitch;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/** Translates between a {@link ProxiedRequest} and the frames a worker connection carries. */
public final class ExchangeFrames {

  private static final ParsedValues<HttpHeader> DATES =
      new ParsedValues<>(value -> HttpHeader.parse("Date", value));
  private static final ParsedValues<HttpHeader> SERVERS =
      new ParsedValues<>(value -> HttpHeader.parse("Server", value));
  private static final ParsedValues<ContentType> CONTENT_TYPES =
      new ParsedValues<>(ExchangeFrames::parseOrOctetStream);

  private ExchangeFrames() {}

  /**
   * Whether the request travels whole, in one frame or one message to another node: its body is
   * small and already in memory.
   */
  public static boolean isInline(ProxiedRequest request, int inlineLimit) {
    return request.entity() instanceof HttpEntity.Strict strict
        && strict.getData().size() <= inlineLimit;
  }

  /** The request as one frame; see {@link #isInline}. */
  static Frame.RequestStart inlineRequest(int n, ProxiedRequest request) {
    RequestEntity entity = request.entity();
    return new Frame.RequestStart(
        n,
        request.method(),
        request.target(),
        request.headers(),
        contentTypeOf(entity),
        entity.getContentLengthOption().orElse(Frame.UNKNOWN_LENGTH),
        true,
        ((HttpEntity.Strict) entity).getData());
  }

  /**
   * The request as streamed frames: the head, then the body's chunks as they arrive ({@link
   * BodyPieces#chunks}; stoppable by {@code stop}, their bytes counted by {@code counted}).
   */
  static Source<Frame, NotUsed> request(
      int n, ProxiedRequest request, SharedKillSwitch stop, LongConsumer counted) {
    RequestEntity entity = request.entity();
    String contentType = contentTypeOf(entity);
    long length = entity.getContentLengthOption().orElse(Frame.UNKNOWN_LENGTH);
    Frame head =
        new Frame.RequestStart(
            n,
            request.method(),
            request.target(),
            request.headers(),
            contentType,
            length,
            false,
            ByteString.emptyByteString());
    Source<Frame, NotUsed> body =
        entity
            .withoutSizeLimit()
            .getDataBytes()
            .via(stop.flow())
            .map(
                bytes -> {
                  counted.accept(bytes.size());
                  return bytes;
                })
            .via(BodyPieces.chunks(n))
            // The application's upload broke off: tell the agent rather than fail the connection.
            .recover(Throwable.class, () -> new Frame.Cancel(n))
            .mapMaterializedValue(m -> NotUsed.getInstance());
    return Source.single(head).concat(body);
  }

  /**
   * The application's answer for a worker's response head, with its body when it streams: the
   * upstream's headers as {@link HeaderRules#response} passes them (no {@code Slime-*} of its own,
   * nothing hop-by-hop), then the hub's {@code Slime-Agent}.
   */
  public static HttpResponse response(
      Frame.ResponseStart start,
      Source<ByteString, NotUsed> body,
      String agentName,
      boolean headRequest) {
    return build(start, HeaderRules.response(start.headers()), body, agentName, headRequest);
  }

  /**
   * The application's answer for a head another hub node made: its headers passed that node's
   * {@link #response} already, or are that node's own answer with its {@code Slime-Error}, kept.
   * {@code agentName} is empty when no agent served it.
   */
  public static HttpResponse relayed(
      Frame.ResponseStart start,
      Source<ByteString, NotUsed> body,
      String agentName,
      boolean headRequest) {
    return build(start, start.headers(), body, agentName, headRequest);
  }

  private static HttpResponse build(
      Frame.ResponseStart start,
      List<Header> passed,
      Source<ByteString, NotUsed> body,
      String agentName,
      boolean headRequest) {
    List<HttpHeader> headers = new ArrayList<>(passed.size() + 1);
    for (Header h : passed) {
      String lower = h.name().toLowerCase(Locale.ROOT);
      // Pekko's renderer drops raw Date and Server headers: they must be its modeled ones.
      if (lower.equals("date")) {
        headers.add(DATES.of(h.value()));
      } else if (lower.equals("server")) {
        headers.add(SERVERS.of(h.value()));
      } else {
        headers.add(RawHeader.create(h.name(), h.value()));
      }
    }
    if (!agentName.isEmpty()) {
      headers.add(RawHeader.create(SlimeHeaders.AGENT, agentName));
    }
    ContentType contentType = parseContentType(start.contentType());
    ResponseEntity entity;
    if (headRequest && body == null && start.contentLength() > 0) {
      // The answer to HEAD names the length of a body it does not carry.
      entity = HttpEntities.create(contentType, start.contentLength(), Source.empty());
    } else if (body == null) {
      entity = HttpEntities.create(contentType, start.body());
    } else if (start.contentLength() >= 0) {
      entity = HttpEntities.create(contentType, start.contentLength(), body);
    } else {
      entity = HttpEntities.createChunked(contentType, body);
    }
    return HttpResponse.create().withStatus(start.status()).addHeaders(headers).withEntity(entity);
  }

  /** The request body's Content-Type as it travels, empty when it has none. */
  public static String contentTypeOf(RequestEntity entity) {
    ContentType type = entity.getContentType();
    return entity.isKnownEmpty() || type.equals(ContentTypes.NO_CONTENT_TYPE) || defaulted(type)
        ? ""
        : type.toString();
  }

  /**
   * Whether Pekko's parser made this Content-Type up: it gives a body that came without one its own
   * application/octet-stream constant, while a header the client sent parses to a new value (equal,
   * but another object). No header is forwarded that the client did not send.
   */
  private static boolean defaulted(ContentType type) {
    return type
        == org.apache.pekko.http.scaladsl.model.ContentTypes$.MODULE$
            .application$divoctet$minusstream();
  }

  /** A Content-Type as it travelled; octet-stream when it does not parse. */
  public static ContentType parseContentType(String value) {
    if (value.isEmpty()) {
      return ContentTypes.NO_CONTENT_TYPE;
    }
    return CONTENT_TYPES.of(value);
  }

  private static ContentType parseOrOctetStream(String value) {
    try {
      return ContentTypes.parse(value);
    } catch (IllegalArgumentException e) {
      return ContentTypes.APPLICATION_OCTET_STREAM;
    }
  }
}
