package io.slime.hub.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slime.hub.model.ResponseSlot;
import io.slime.hub.model.ResponseSlot.State;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.junit.jupiter.api.Test;

/** Every transition of the response slot, from every state: the legal ones, and the others. */
class ResponseSlotTest {
  private static final HttpResponse FIRST = HttpResponse.create().withStatus(200);
  private static final HttpResponse SECOND = HttpResponse.create().withStatus(502);

  /** What the slot's holder heard of the application going away. */
  private final AtomicInteger goneHeard = new AtomicInteger();

  private final Runnable holder = goneHeard::incrementAndGet;

  @Test
  void shouldFromWaitingTakeAHolderBeAssignedAnsweredOrGoneButNotBeHandedBackOrFinished() {
    assertTrue(in(State.WAITING).waitWith(holder));
    assertResult(State.WAITING, s -> s.waitWith(holder), true);
    assertResult(State.WAITING, s -> s.assign(holder), true, State.ASSIGNED);
    assertResult(State.WAITING, s -> s.answer(FIRST), true, State.ANSWERED);
    assertGoneHeardOnce(State.WAITING);
    assertIllegal(State.WAITING, ResponseSlot::handBack);
    assertIllegal(State.WAITING, ResponseSlot::finish);
  }

  @Test
  void shouldFromAssignedBeHandedBackAnsweredOrGoneButNotWaitOrBeAssignedOrFinishedAgain() {
    ResponseSlot back = in(State.ASSIGNED);
    back.handBack();
    assertEquals(State.WAITING, back.state());
    back.markGone();
    assertEquals(0, goneHeard.get(), "a slot handed back has no holder until it waits again");
    assertResult(State.ASSIGNED, s -> s.answer(FIRST), true, State.ANSWERED);
    assertGoneHeardOnce(State.ASSIGNED);
    assertIllegal(State.ASSIGNED, s -> s.waitWith(holder));
    assertIllegal(State.ASSIGNED, s -> s.assign(holder));
    assertIllegal(State.ASSIGNED, ResponseSlot::finish);
  }

  @Test
  void shouldFromAnsweredFinishOrGoAndIgnoreAnotherAnswerAnAssignmentOrAHandBack() {
    ResponseSlot finished = in(State.ANSWERED);
    finished.finish();
    assertEquals(State.FINISHED, finished.state());
    assertTrue(finished.finished().toCompletableFuture().isDone());
    assertResult(State.ANSWERED, s -> s.answer(SECOND), false);
    ResponseSlot answered = in(State.ANSWERED);
    answered.answer(SECOND);
    assertEquals(FIRST, answered.response().toCompletableFuture().getNow(null), "the first wins");
    assertResult(State.ANSWERED, s -> s.assign(holder), false);
    assertResult(State.ANSWERED, s -> s.waitWith(holder), true);
    ResponseSlot handedBack = in(State.ANSWERED);
    handedBack.handBack();
    assertEquals(State.ANSWERED, handedBack.state());
    assertGoneHeardOnce(State.ANSWERED);
  }

  @Test
  void shouldWhenFinishedIgnoreAnswersGoneAndFinishButRefuseAnyNewHolder() {
    assertResult(State.FINISHED, s -> s.answer(SECOND), false);
    ResponseSlot slot = in(State.FINISHED);
    slot.markGone();
    slot.finish();
    assertEquals(State.FINISHED, slot.state());
    assertFalse(slot.isGone());
    assertIllegal(State.FINISHED, s -> s.waitWith(holder));
    assertIllegal(State.FINISHED, s -> s.assign(holder));
    assertIllegal(State.FINISHED, ResponseSlot::handBack);
  }

  @Test
  void shouldWhenGoneTellANewHolderAtOnceRefuseWorkAndOnlyLetGoOnFinish() {
    ResponseSlot waiting = in(State.GONE);
    assertFalse(waiting.waitWith(holder));
    assertEquals(1, goneHeard.get(), "told at once");
    waiting.markGone();
    assertEquals(1, goneHeard.get(), "and only once");
    assertResult(State.GONE, s -> s.assign(holder), false);
    assertResult(State.GONE, s -> s.answer(FIRST), false);
    ResponseSlot unanswered = in(State.GONE);
    assertFalse(unanswered.isAnswered());
    unanswered.handBack();
    unanswered.markGone();
    assertEquals(State.GONE, unanswered.state());
    assertFalse(unanswered.finished().toCompletableFuture().isDone());
    unanswered.finish();
    assertTrue(unanswered.finished().toCompletableFuture().isDone(), "let go of");
    assertEquals(State.GONE, unanswered.state());
  }

  @Test
  void shouldTellOnlyTheLatestHolder() {
    AtomicInteger first = new AtomicInteger();
    AtomicInteger second = new AtomicInteger();
    ResponseSlot slot = new ResponseSlot();
    slot.waitWith(first::incrementAndGet);
    slot.assign(second::incrementAndGet);
    slot.markGone();
    assertEquals(0, first.get());
    assertEquals(1, second.get());
  }

  /** A slot brought to {@code state} the way the hub brings it there, with {@link #holder}. */
  private ResponseSlot in(State state) {
    ResponseSlot slot = new ResponseSlot();
    switch (state) {
      case WAITING -> slot.waitWith(holder);
      case ASSIGNED -> slot.assign(holder);
      case ANSWERED -> {
        slot.assign(holder);
        slot.answer(FIRST);
      }
      case FINISHED -> {
        slot.answer(FIRST);
        slot.finish();
      }
      case GONE -> slot.markGone();
    }
    goneHeard.set(0);
    assertEquals(state, slot.state());
    return slot;
  }

  private void assertResult(State from, Function<ResponseSlot, Boolean> transition, boolean ok) {
    assertResult(from, transition, ok, from);
  }

  private void assertResult(
      State from, Function<ResponseSlot, Boolean> transition, boolean ok, State to) {
    ResponseSlot slot = in(from);
    assertEquals(ok, transition.apply(slot), from + " -> " + to);
    assertEquals(to, slot.state(), "from " + from);
  }

  private void assertGoneHeardOnce(State from) {
    ResponseSlot slot = in(from);
    slot.markGone();
    slot.markGone();
    assertEquals(State.GONE, slot.state());
    assertEquals(1, goneHeard.get(), "the holder hears it once, from " + from);
  }

  private void assertIllegal(State from, java.util.function.Consumer<ResponseSlot> transition) {
    ResponseSlot slot = in(from);
    assertThrows(IllegalStateException.class, () -> transition.accept(slot), "from " + from);
    assertEquals(from, slot.state(), "an illegal transition changes nothing");
  }
}
