package io.slime.hub.dispatch;

import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.ActorPath;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.RootActorPath;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * An actor reference without an actor system, for the plain classes' tests: it only keeps what it
 * was told. Compared by its path, as real references are.
 */
final class FakeRef<T> implements ActorRef<T> {
  private static final Address ADDRESS = new Address("pekko", "test");

  private final ActorPath path;
  final List<T> told = new ArrayList<>();

  FakeRef(String name) {
    this.path = new RootActorPath(ADDRESS, "/").$div(name);
  }

  @Override
  public void tell(T message) {
    told.add(message);
  }

  @Override
  @SuppressWarnings("unchecked")
  public <U extends T> ActorRef<U> narrow() {
    return (ActorRef<U>) this;
  }

  @Override
  @SuppressWarnings("unchecked")
  public <U> ActorRef<U> unsafeUpcast() {
    return (ActorRef<U>) this;
  }

  @Override
  public ActorPath path() {
    return path;
  }

  @Override
  public int compareTo(ActorRef<?> other) {
    return path.compareTo(other.path());
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof FakeRef<?> ref && ref.path.equals(path);
  }

  @Override
  public int hashCode() {
    return path.hashCode();
  }

  @Override
  public String toString() {
    return "FakeRef(" + path.name() + ")";
  }
}
