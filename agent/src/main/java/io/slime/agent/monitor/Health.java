package io.slime.agent.monitor;

import java.util.Objects;

/**
 * An upstream's health as its checks judge it; each check's result gives the next state. Until its
 * first success an upstream is unhealthy, and that success makes it healthy at once (an upstream
 * that is still starting needs no streak); afterwards it takes {@code unhealthyAfter} failures in a
 * row to turn unhealthy and {@code healthyAfter} successes in a row to turn healthy again, so one
 * slow answer does not take an upstream out of service.
 *
 * @param detail why it is unhealthy (the latest failure), null while healthy
 * @param streak results in a row that speak against the current verdict
 * @param everHealthy whether any check has passed yet
 */
record Health(boolean healthy, String detail, int streak, boolean everHealthy) {
  static final String WAITING_DETAIL = "waiting for the first health check";

  /** Before the first check. */
  static final Health WAITING = new Health(false, WAITING_DETAIL, 0, false);

  /** Healthy, with no failure in a row; an upstream without a health check stays so. */
  static final Health HEALTHY = new Health(true, null, 0, true);

  Health afterSuccess(int healthyAfter) {
    if (healthy || !everHealthy || streak + 1 >= healthyAfter) {
      return HEALTHY;
    }
    return new Health(false, detail, streak + 1, true);
  }

  Health afterFailure(String why, int unhealthyAfter) {
    if (!healthy || streak + 1 >= unhealthyAfter) {
      return new Health(false, why, 0, everHealthy);
    }
    return new Health(true, null, streak + 1, true);
  }

  /** Whether this is the state before any check. */
  boolean waiting() {
    return !everHealthy && WAITING_DETAIL.equals(detail);
  }

  /** Whether the hub would see a difference: the verdict or its reason changed. */
  boolean differsFrom(Health other) {
    return healthy != other.healthy || !Objects.equals(detail, other.detail);
  }
}
