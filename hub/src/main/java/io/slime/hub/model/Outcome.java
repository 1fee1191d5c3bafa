package io.slime.hub.model;

/** How a worker's request ended, for the hub's judgement of its agent's health. */
public enum Outcome {
  /** The upstream answered below 500. */
  SUCCESS,
  /** The upstream answered 5xx. */
  SERVER_ERROR,
  /** The agent could not get an answer: the upstream was unreachable, timed out or broke off. */
  FAILED,
  /** Nothing to judge by: the application went away. */
  NEUTRAL
}
