package dev.trainingjob.operator.job;

import java.time.Duration;

/**
 * The provider may not make the job's call yet: its API's rate limits, shared by every job of the install, have no room for
 * it now. Not a failure and not a shortage of machines: the step says so in status.message and looks again after
 * {@link #after()}, without holding a thread meanwhile.
 */
public final class WaitForTurn extends RuntimeException {
  private final Duration after;

  public WaitForTurn(String message, Duration after) {
    super(message);
    this.after = after;
  }

  public Duration after() {
    return after;
  }
}
