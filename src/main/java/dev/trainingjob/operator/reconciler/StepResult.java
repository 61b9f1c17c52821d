package dev.trainingjob.operator.reconciler;

import java.time.Duration;

/** What a step tells the reconciler: go on to the next step now, check again later, or rest. */
public record StepResult(Kind kind, Duration after) {
  public enum Kind { CONTINUE, REQUEUE, DONE }

  /** The phase changed: run the next phase's step in the same reconcile. */
  public static StepResult next() {
    return new StepResult(Kind.CONTINUE, null);
  }

  /** Nothing more to do now; look again after the given time. */
  public static StepResult checkAgainAfter(Duration after) {
    return new StepResult(Kind.REQUEUE, after);
  }

  /** Nothing more to do until the resource changes. */
  public static StepResult done() {
    return new StepResult(Kind.DONE, null);
  }
}
