package io.slime.hub.model;

/**
 * A request on its way to being served, as it is handed from one holder to the next in a message
 * (the front door to the {@link Dispatcher}, the dispatcher to a worker or another node, a failed
 * worker back to the dispatcher): what to forward, and the slot its answer goes to.
 */
public record Job(ProxiedRequest request, ResponseSlot slot) {

  /** A new request, with a slot that waits for a holder. */
  public static Job of(ProxiedRequest request) {
    return new Job(request, new ResponseSlot());
  }

  /** The same slot for a changed request (pinned, retried, charged). */
  public Job with(ProxiedRequest changed) {
    return new Job(changed, slot);
  }
}
