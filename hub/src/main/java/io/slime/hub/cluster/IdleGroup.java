package io.slime.hub.cluster;

import io.slime.hub.CborSerializable;
import io.slime.hub.dispatch.WorkerProfile;

/**
 * Workers of one node that accept the same requests ({@code accepts} carries only scopes and scope
 * paths): how many are idle and how many there are.
 */
public record IdleGroup(WorkerProfile accepts, int idle, int total) implements CborSerializable {}
