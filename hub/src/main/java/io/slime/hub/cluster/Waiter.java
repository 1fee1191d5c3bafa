package io.slime.hub.cluster;

import io.slime.hub.CborSerializable;

/** A request waiting at some node, as other nodes see it: what it needs and since when. */
public record Waiter(String scope, String path, long sinceMillis) implements CborSerializable {}
