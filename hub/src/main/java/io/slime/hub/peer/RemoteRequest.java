package io.slime.hub.peer;

import io.slime.hub.model.CborSerializable;
import io.slime.hub.model.Demand;
import io.slime.shared.protocol.Header;
import java.util.List;

/**
 * An application request as it crosses to the node whose worker serves it: the head, what it needs
 * of its worker ({@code demand}), and the body when small enough to ride along ({@code
 * inlineBody}); otherwise the body follows as a stream once the serving node accepted ({@link
 * PeerRequest.Body}).
 */
public record RemoteRequest(
    String method,
    String target,
    String path,
    List<Header> headers,
    Demand demand,
    String contentType,
    long contentLength,
    byte[] inlineBody)
    implements CborSerializable {

  public boolean streamed() {
    return inlineBody == null;
  }
}
