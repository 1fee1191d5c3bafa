package io.slime.hub.peer;

import io.slime.hub.model.CborSerializable;

/**
 * The messages the two sides of a request crossing nodes send each other ({@link ForwardedRequest}
 * at the application's node, {@link PeerRequest} at the serving one), and so must serialize: bound
 * to jackson-cbor through {@link CborSerializable}. What the dispatchers themselves say to each
 * other is the dispatcher's {@code PeerMessage}.
 */
public sealed interface ForwardingMessage extends CborSerializable
    permits ForwardedRequest.Accepted,
        ForwardedRequest.Declined,
        ForwardedRequest.Answer,
        PeerRequest.Body,
        PeerRequest.Cancel {}
