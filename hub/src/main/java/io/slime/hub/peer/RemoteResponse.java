package io.slime.hub.peer;

import io.slime.hub.model.CborSerializable;
import io.slime.shared.protocol.Header;
import java.util.List;
import org.apache.pekko.stream.SourceRef;
import org.apache.pekko.util.ByteString;

/**
 * A worker's answer on its way back to the node the application is connected to: the head, and the
 * body either inline ({@code inlineBody}) or as a stream ({@code body}), never both.
 */
public record RemoteResponse(
    int status,
    List<Header> headers,
    String agentName,
    String contentType,
    long contentLength,
    byte[] inlineBody,
    SourceRef<ByteString> body)
    implements CborSerializable {}
