package dev.trainingjob.operator.job;

/**
 * A failure that retrying cannot fix (a host key mismatch, a missing Secret, an invalid spec). The
 * reconciler ends the job in Failed with this reason; any other exception is retried with backoff.
 */
public class JobFailure extends RuntimeException {
  private final Reason reason;

  public JobFailure(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public JobFailure(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  /** Why the job ends, for conditions and Events. */
  public Reason reason() {
    return reason;
  }
}
