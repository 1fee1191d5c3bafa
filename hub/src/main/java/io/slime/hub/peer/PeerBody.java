package io.slime.hub.peer;

import io.slime.shared.protocol.BodyPieces;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.SourceRef;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.StreamRefs;
import org.apache.pekko.util.ByteString;

/** A body streamed to another hub node. */
final class PeerBody {
  /**
   * Largest piece per remote message: Artery drops a message over its maximum-frame-size (256 KiB),
   * and the stream then fails, so pieces stay well under it whatever size the bytes came in.
   */
  static final int MAX_PIECE = 128 * 1024;

  private PeerBody() {}

  /** Runs {@code body} into a reference the other node reads from. */
  static SourceRef<ByteString> offer(Source<ByteString, ?> body, Materializer materializer) {
    return body.mapConcat(bytes -> BodyPieces.of(bytes, MAX_PIECE))
        .runWith(StreamRefs.sourceRef(), materializer);
  }
}
