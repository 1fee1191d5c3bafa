package io.slime.hub.dispatch;

import io.slime.hub.model.CborSerializable;
import io.slime.hub.model.Demand;

/**
 * A request waiting at some node, as other nodes see it: what it needs, its priority and since when
 * it waits.
 */
public record Waiter(Demand demand, int priority, long sinceMillis) implements CborSerializable {

  /** Whether this one is served before {@code other}: higher priority, then longer waiting. */
  public boolean before(int otherPriority, long otherSinceMillis) {
    return priority != otherPriority ? priority > otherPriority : sinceMillis < otherSinceMillis;
  }
}
