package io.slime.hub.peer;

import io.slime.hub.model.Job;
import io.slime.hub.model.ProxiedRequest;
import io.slime.hub.model.RequestTraits;
import io.slime.hub.policy.Policy;
import io.slime.hub.worker.ExchangeFrames;
import io.slime.shared.protocol.Frame;
import io.slime.shared.protocol.Header;
import io.slime.shared.protocol.SlimeHeaders;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.RequestEntity;
import org.apache.pekko.http.javadsl.model.ResponseEntity;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/** Turns requests and responses into the messages that carry them between hub nodes, and back. */
public final class PeerHttp {
  private PeerHttp() {}

  /** The request for a peer; its body inline when it is in memory and at most {@code limit}. */
  public static RemoteRequest request(ProxiedRequest request, int inlineLimit) {
    RequestEntity entity = request.entity();
    byte[] inline =
        ExchangeFrames.isInline(request, inlineLimit)
            ? ((HttpEntity.Strict) entity).getData().toArray()
            : null;
    return new RemoteRequest(
        request.method(),
        request.target(),
        request.path(),
        request.headers(),
        request.demand(),
        ExchangeFrames.contentTypeOf(entity),
        entity.getContentLengthOption().orElse(Frame.UNKNOWN_LENGTH),
        inline);
  }

  /** The serving node's job for a peer's request; {@code body} is read when it streams. */
  public static Job job(RemoteRequest request, Source<ByteString, NotUsed> body) {
    ContentType type = ExchangeFrames.parseContentType(request.contentType());
    RequestEntity entity;
    if (!request.streamed()) {
      entity = HttpEntities.create(type, ByteString.fromArrayUnsafe(request.inlineBody()));
    } else if (request.contentLength() >= 0) {
      entity = HttpEntities.create(type, request.contentLength(), body);
    } else {
      entity = HttpEntities.createChunked(type, body);
    }
    return Job.of(
        ProxiedRequest.of(
            request.method(),
            request.target(),
            request.path(),
            request.headers(),
            entity,
            new RequestTraits(request.demand(), false, 0, Duration.ofDays(1), Policy.FIFO, "")));
  }

  /** The head of a worker's answer, with its body inline when small, else as a stream ref. */
  static RemoteResponse response(
      HttpResponse response, int inlineLimit, Materializer materializer) {
    List<Header> headers = new ArrayList<>();
    String agentName = "";
    for (HttpHeader h : response.getHeaders()) {
      if (h.name().equalsIgnoreCase(SlimeHeaders.AGENT)) {
        agentName = h.value();
      } else {
        headers.add(new Header(h.name(), h.value()));
      }
    }
    ResponseEntity entity = response.entity();
    String contentType =
        entity.getContentType().equals(ContentTypes.NO_CONTENT_TYPE)
            ? ""
            : entity.getContentType().toString();
    long length = entity.getContentLengthOption().orElse(Frame.UNKNOWN_LENGTH);
    byte[] inline =
        entity instanceof HttpEntity.Strict strict && strict.getData().size() <= inlineLimit
            ? strict.getData().toArray()
            : null;
    return new RemoteResponse(
        response.status().intValue(),
        headers,
        agentName,
        contentType,
        length,
        inline,
        inline != null ? null : PeerBody.offer(entity.getDataBytes(), materializer));
  }

  /** The application's answer from a peer's response; {@code body} streams a non-inline body. */
  static HttpResponse httpResponse(
      RemoteResponse response, boolean headRequest, Source<ByteString, NotUsed> body) {
    boolean inline = response.inlineBody() != null;
    Frame.ResponseStart start =
        new Frame.ResponseStart(
            0,
            response.status(),
            response.headers(),
            response.contentType(),
            response.contentLength(),
            inline,
            inline
                ? ByteString.fromArrayUnsafe(response.inlineBody())
                : ByteString.emptyByteString());
    return ExchangeFrames.relayed(start, inline ? null : body, response.agentName(), headRequest);
  }
}
