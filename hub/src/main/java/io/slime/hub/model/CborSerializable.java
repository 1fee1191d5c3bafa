package io.slime.hub.model;

/**
 * Marks messages that may cross hub nodes; bound to Jackson CBOR in reference.conf so Java
 * serialization stays off.
 */
public interface CborSerializable {}
