package io.slime.hub.dispatch;

import io.slime.hub.model.Job;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The requests waiting for a worker on one node: highest {@code Slime-Priority} first, first come
 * first served within a priority, each until its own deadline. Owned by the {@link Dispatcher}.
 *
 * <p>A request whose application left stays in place until it is met (skipped and dropped then), so
 * leaving costs nothing; {@link #size} counts only the live ones, which the dispatcher tells it
 * about through {@link #remove}.
 */
final class WaitingRequests {
  private final ArrayDeque<Job>[] byPriority;
  // Lazily cleaned: a request taken out stays here until it comes up or the heap is rebuilt.
  private PriorityQueue<Job> byDeadline;
  private final Set<Job> queued = Collections.newSetFromMap(new IdentityHashMap<>());
  private int size;
  private final long maxWaitNanos;

  @SuppressWarnings("unchecked")
  WaitingRequests(int maxPriority, long maxWaitNanos) {
    this.maxWaitNanos = maxWaitNanos;
    this.byDeadline = newDeadlineHeap();
    byPriority = new ArrayDeque[maxPriority + 1];
    for (int i = 0; i < byPriority.length; i++) {
      byPriority[i] = new ArrayDeque<>();
    }
  }

  int size() {
    return size;
  }

  boolean isEmpty() {
    return size == 0;
  }

  /** Queues a request; {@code first} puts it ahead of its priority's others (it waited already). */
  void add(Job job, boolean first) {
    ArrayDeque<Job> queue = byPriority[job.request().traits().priority()];
    if (first) {
      queue.addFirst(job);
    } else {
      queue.addLast(job);
    }
    byDeadline.add(job);
    queued.add(job);
    size++;
    if (byDeadline.size() > 2 * size + 1024) {
      PriorityQueue<Job> rebuilt = newDeadlineHeap();
      rebuilt.addAll(queued);
      byDeadline = rebuilt;
    }
  }

  /**
   * Takes out the first live request, in serving order, that {@code accepts} lets through; null
   * when there is none. Requests whose application left are dropped on the way.
   */
  Job takeFirst(Predicate<Job> accepts) {
    Job found = first(accepts);
    if (found != null) {
      remove(found);
    }
    return found;
  }

  /** The first live request, in serving order, that {@code accepts} lets through, left in place. */
  Job first(Predicate<Job> accepts) {
    for (int p = byPriority.length - 1; p >= 0; p--) {
      for (Iterator<Job> it = byPriority[p].iterator(); it.hasNext(); ) {
        Job job = it.next();
        if (job.slot().isGone()) {
          continue; // its Abandon is on the way and removes it
        }
        if (accepts.test(job)) {
          return job;
        }
      }
    }
    return null;
  }

  /** Takes a request out; false when it was not waiting (any more). */
  boolean remove(Job job) {
    if (!queued.remove(job)) {
      return false;
    }
    byPriority[job.request().traits().priority()].remove(job);
    size--;
    return true;
  }

  /** Takes out and returns every request whose deadline has passed. */
  List<Job> takeExpired(long nowNanos) {
    List<Job> expired = new ArrayList<>();
    dropTakenHeads();
    while (!byDeadline.isEmpty() && nowNanos - deadline(byDeadline.peek()) >= 0) {
      Job job = byDeadline.poll();
      if (remove(job)) {
        expired.add(job);
      }
      dropTakenHeads();
    }
    return expired;
  }

  /** The earliest deadline of a waiting request (System.nanoTime); only when not empty. */
  long nextDeadlineNanos() {
    dropTakenHeads();
    return deadline(byDeadline.peek());
  }

  /** Its own deadline, or the hub's bound when that comes first. */
  private long deadline(Job job) {
    long capped = job.request().createdNanos() + maxWaitNanos;
    return capped - job.request().deadlineNanos() < 0 ? capped : job.request().deadlineNanos();
  }

  private void dropTakenHeads() {
    while (!byDeadline.isEmpty() && !queued.contains(byDeadline.peek())) {
      byDeadline.poll();
    }
  }

  private PriorityQueue<Job> newDeadlineHeap() {
    return new PriorityQueue<>(Comparator.comparingLong(this::deadline));
  }

  /** Up to {@code max} live requests in serving order. */
  List<Job> firstLive(int max) {
    List<Job> out = new ArrayList<>();
    for (int p = byPriority.length - 1; p >= 0 && out.size() < max; p--) {
      for (Job job : byPriority[p]) {
        if (out.size() == max) {
          break;
        }
        if (!job.slot().isGone()) {
          out.add(job);
        }
      }
    }
    return out;
  }

  /** Takes out every request, for a hub that stops. */
  List<Job> clear() {
    List<Job> all = new ArrayList<>();
    for (ArrayDeque<Job> queue : byPriority) {
      all.addAll(queue);
      queue.clear();
    }
    byDeadline.clear();
    queued.clear();
    size = 0;
    return all;
  }
}
