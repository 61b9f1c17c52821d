package dev.trainingjob.operator.job;

/**
 * The provider cannot launch under the job's current attempt number: the idempotency token made
 * from it already belongs to an instance that is gone (terminated before status recorded it). The
 * step persists attempt + 1 before anything is launched, so a crash in between repeats this
 * answer rather than launching twice.
 */
public final class AttemptSpent extends RuntimeException {
  public AttemptSpent(String message) {
    super(message);
  }
}
