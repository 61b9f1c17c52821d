package dev.trainingjob.operator.job;

/**
 * A shortage outside the job that passes with time (no capacity for any allowed instance type):
 * the step says so in status and tries again with backoff, within the job's pending deadline. Not
 * a failure, and not an error to be retried at JOSDK's pace either.
 */
public final class WaitAndRetry extends RuntimeException {
  private final Reason reason;

  public WaitAndRetry(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
