package dev.trainingjob.operator.reconciler;

/**
 * A failure that retrying cannot fix (a host key mismatch, a missing Secret, an invalid spec). The
 * reconciler ends the job in Failed with this reason; any other exception is retried with backoff.
 */
public class JobFailure extends RuntimeException {
  private final String reason;

  public JobFailure(String reason, String message) {
    super(message);
    this.reason = reason;
  }

  public JobFailure(String reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  /** A CamelCase word for conditions and Events. */
  public String reason() {
    return reason;
  }
}
