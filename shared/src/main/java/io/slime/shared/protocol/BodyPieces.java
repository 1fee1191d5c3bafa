package io.slime.shared.protocol;

import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * Cuts body bytes into pieces that fit one {@link Frame.BodyChunk}, well under the frame limit (or
 * any other limit a carrier has).
 */
public final class BodyPieces {
  /** Largest body piece per frame. */
  public static final int MAX = 256 * 1024;

  private BodyPieces() {}

  /**
   * A body's bytes as the {@link Frame.BodyChunk}s of one exchange, ending with the last one. What
   * arrives while the socket is still busy with the previous frame joins the next one, up to {@link
   * #MAX}, and so does the end: a bulk transfer costs a few large messages instead of one per
   * network read. A trickle of events still goes out piece by piece, each as soon as the socket can
   * take it; so does the end of a short body that arrives after its bytes went out.
   */
  public static Flow<ByteString, Frame, NotUsed> chunks(int exchange) {
    return Flow.<ByteString>create()
        .mapConcat(BodyPieces::of)
        .map(bytes -> new Frame.BodyChunk(exchange, bytes, false))
        .concat(Source.single(new Frame.BodyChunk(exchange, ByteString.emptyByteString(), true)))
        .batchWeighted(MAX, chunk -> (long) chunk.bytes().size(), chunk -> chunk, BodyPieces::join)
        .map(chunk -> (Frame) chunk);
  }

  private static Frame.BodyChunk join(Frame.BodyChunk first, Frame.BodyChunk next) {
    return new Frame.BodyChunk(first.exchange(), first.bytes().concat(next.bytes()), next.last());
  }

  /** The bytes in order, none larger than {@link #MAX}, no empty piece; slices, not copies. */
  public static List<ByteString> of(ByteString bytes) {
    return of(bytes, MAX);
  }

  /** The bytes in order, none larger than {@code max}, no empty piece; slices, not copies. */
  public static List<ByteString> of(ByteString bytes, int max) {
    if (bytes.size() <= max) {
      return bytes.isEmpty() ? List.of() : List.of(bytes);
    }
    List<ByteString> pieces = new ArrayList<>(bytes.size() / max + 1);
    for (int from = 0; from < bytes.size(); from += max) {
      pieces.add(bytes.slice(from, Math.min(bytes.size(), from + max)));
    }
    return pieces;
  }
}
