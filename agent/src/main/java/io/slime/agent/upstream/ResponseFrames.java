package io.slime.agent.upstream;

import io.slime.shared.http.HeaderRules;
import io.slime.shared.protocol.BodyPieces;
import io.slime.shared.protocol.Frame;
import io.slime.shared.protocol.Header;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.scaladsl.model.ExceptionWithErrorInfo;
import org.apache.pekko.japi.pf.PFBuilder;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.SharedKillSwitch;
import org.apache.pekko.stream.StreamIdleTimeoutException;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * Turns an upstream response into the frames of one exchange.
 *
 * <p>Small bodies (strict, or of known length up to the inline limit) travel inside a single {@link
 * Frame.ResponseStart}: one WebSocket message per request is the common case. Anything else
 * streams: the head, then the body in {@link Frame.BodyChunk}s as it arrives ({@link
 * BodyPieces#chunks}). Demand comes from the WebSocket: a slow hub slows the upstream read, so
 * memory stays bounded whatever the body size. A body that sends nothing for the body idle timeout
 * is cut (this also ends a short body the upstream never finishes).
 */
public final class ResponseFrames {

  private ResponseFrames() {}

  private static String contentTypeOf(HttpEntity entity) {
    return entity.getContentType().equals(ContentTypes.NO_CONTENT_TYPE)
        ? ""
        : entity.getContentType().toString();
  }

  /**
   * Every frame of the response, ending with exactly one terminal frame (last chunk or Failure).
   * Aborting {@code killSwitch} cuts the upstream body and ends the frames with a Failure, unless
   * the terminal frame already passed. Once {@code abortReason} gives a reason, any failure of the
   * stream is reported with it (tearing the upstream connection down fails the body too, and that
   * may arrive first). A body silent for {@code bodyIdle} fails. {@code broke} hears of every
   * Failure that ends the frames other than through {@code abortReason}, from the stream's thread.
   */
  public static Source<Frame, NotUsed> of(
      int exchange,
      HttpResponse response,
      int inlineLimit,
      Duration bodyIdle,
      SharedKillSwitch killSwitch,
      Supplier<String> abortReason,
      Consumer<Frame.Failure> broke,
      String upstream) {
    return terminated(
            exchange,
            frames(exchange, response, inlineLimit, bodyIdle).via(killSwitch.<Frame>flow()),
            abortReason,
            broke,
            upstream,
            bodyIdle)
        // Pekko's parser throws inside the body's stream on a body it refuses, which the stream
        // would log as an ERROR with a stack trace; the Failure frame says why instead.
        .addAttributes(
            Attributes.createLogLevels(
                Attributes.logLevelDebug(), Attributes.logLevelDebug(), Attributes.logLevelOff()));
  }

  /**
   * The whole response as one frame when its body is already in memory, else null. Such an exchange
   * needs no stream of its own: the common small request costs one message each way.
   */
  public static Frame whole(int exchange, HttpResponse response) {
    if (!(response.entity() instanceof HttpEntity.Strict strict)) {
      return null;
    }
    ByteString body = strict.getData();
    return new Frame.ResponseStart(
        exchange,
        response.status().intValue(),
        headers(response.getHeaders()),
        contentTypeOf(strict),
        body.size(),
        true,
        body);
  }

  static Source<Frame, NotUsed> frames(
      int exchange, HttpResponse response, int inlineLimit, Duration bodyIdle) {
    HttpEntity entity = response.entity();
    List<Header> headers = headers(response.getHeaders());
    String contentType = contentTypeOf(entity);
    int status = response.status().intValue();
    OptionalLong length = entity.getContentLengthOption();
    long declared = length.isPresent() ? length.getAsLong() : Frame.UNKNOWN_LENGTH;

    if (entity instanceof HttpEntity.Strict strict) {
      ByteString body = strict.getData();
      return Source.single(
          new Frame.ResponseStart(exchange, status, headers, contentType, body.size(), true, body));
    }
    Source<ByteString, ?> data = entity.getDataBytes().idleTimeout(bodyIdle);
    if (length.isPresent() && length.getAsLong() <= inlineLimit) {
      return data.fold(ByteString.emptyByteString(), ByteString::concat)
          .map(
              body ->
                  (Frame)
                      // The declared length: a response to HEAD declares one but carries no bytes.
                      new Frame.ResponseStart(
                          exchange, status, headers, contentType, declared, true, body))
          .mapMaterializedValue(m -> NotUsed.getInstance());
    }
    Source<Frame, NotUsed> head =
        Source.single(
            new Frame.ResponseStart(
                exchange,
                status,
                headers,
                contentType,
                declared,
                false,
                ByteString.emptyByteString()));
    return head.concat(
        data.via(BodyPieces.chunks(exchange)).mapMaterializedValue(m -> NotUsed.getInstance()));
  }

  /**
   * Ends {@code frames} with exactly one terminal frame: a failure of the stream becomes a {@link
   * Frame.Failure} (the abort reason when there is one, else the upstream broke off), and nothing
   * follows a terminal frame.
   */
  static Source<Frame, NotUsed> terminated(
      int exchange,
      Source<Frame, NotUsed> frames,
      Supplier<String> abortReason,
      Consumer<Frame.Failure> broke,
      String upstream,
      Duration bodyIdle) {
    return frames
        .recover(
            new PFBuilder<Throwable, Frame>()
                .matchAny(
                    t -> {
                      String aborted = abortReason.get();
                      Frame.Failure failure = failure(exchange, t, aborted, upstream, bodyIdle);
                      if (aborted == null) {
                        broke.accept(failure);
                      }
                      return failure;
                    })
                .build())
        .takeWhile(f -> !isTerminal(f), true);
  }

  /** The Failure that ends a response whose body failed with {@code t}. */
  static Frame.Failure failure(
      int exchange, Throwable t, String abortReason, String upstream, Duration bodyIdle) {
    if (abortReason != null) {
      return new Frame.Failure(exchange, abortReason, Frame.Failure.Kind.CANCELLED, false);
    }
    if (t instanceof StreamIdleTimeoutException) {
      return new Frame.Failure(
          exchange,
          "upstream "
              + upstream
              + " sent nothing of the response body for "
              + bodyIdle.toMillis()
              + " ms",
          Frame.Failure.Kind.TIMEOUT,
          false);
    }
    if (t instanceof MalformedResponseException || t instanceof ExceptionWithErrorInfo) {
      String what =
          t instanceof MalformedResponseException
              ? t.getMessage()
              : "malformed response: " + describe(t);
      return new Frame.Failure(
          exchange,
          "upstream " + upstream + " sent a " + what,
          Frame.Failure.Kind.MALFORMED,
          false);
    }
    return new Frame.Failure(
        exchange,
        "upstream " + upstream + " broke off the response: " + describe(t),
        Frame.Failure.Kind.UNREACHABLE,
        false);
  }

  /** Whether a frame ends its exchange's response. */
  public static boolean isTerminal(Frame frame) {
    return (frame instanceof Frame.ResponseStart start && start.last())
        || (frame instanceof Frame.BodyChunk chunk && chunk.last())
        || frame instanceof Frame.Failure;
  }

  /** The upstream's headers that travel to the hub: see {@link HeaderRules#response}. */
  private static List<Header> headers(Iterable<HttpHeader> all) {
    List<Header> out = new ArrayList<>();
    for (HttpHeader h : all) {
      out.add(new Header(h.name(), h.value()));
    }
    return HeaderRules.response(out);
  }

  /** A failure as one line for a user: its message, or its kind when it has none. */
  public static String describe(Throwable failure) {
    Throwable t = failure;
    while ((t instanceof java.util.concurrent.CompletionException
            || t instanceof java.util.concurrent.ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    String message = t.getMessage();
    if (message == null || message.isBlank()) {
      return t.getClass().getSimpleName();
    }
    // Pekko's TCP failures read "Tcp command [Connect(...)] failed because of java.net.X: why".
    int because = message.indexOf("failed because of ");
    if (because >= 0) {
      message = message.substring(because + "failed because of ".length());
      message = message.replaceFirst("^[\\w.$]+(Exception|Error): ", "");
    }
    return message;
  }
}
