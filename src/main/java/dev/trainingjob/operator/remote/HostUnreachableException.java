package dev.trainingjob.operator.remote;

/** The machine did not answer on its SSH port (yet). Retried until a deadline; never a host-key problem. */
public class HostUnreachableException extends Exception {
  private final String target;

  public HostUnreachableException(String target, String message, Throwable cause) {
    super(message, cause);
    this.target = target;
  }

  /** host:port that did not answer. */
  public String target() {
    return target;
  }
}
