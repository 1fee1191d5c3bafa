package io.slime.shared.protocol;

import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.util.ByteString;

/** Cuts body bytes into pieces that fit one {@link Frame.BodyChunk}, well under the frame limit. */
public final class BodyPieces {
  /** Largest body piece per frame. */
  public static final int MAX = 256 * 1024;

  private BodyPieces() {}

  /** The bytes in order, none larger than {@link #MAX}, no empty piece; slices, not copies. */
  public static List<ByteString> of(ByteString bytes) {
    if (bytes.size() <= MAX) {
      return bytes.isEmpty() ? List.of() : List.of(bytes);
    }
    List<ByteString> pieces = new ArrayList<>(bytes.size() / MAX + 1);
    for (int from = 0; from < bytes.size(); from += MAX) {
      pieces.add(bytes.slice(from, Math.min(bytes.size(), from + MAX)));
    }
    return pieces;
  }
}
