package dev.trainingjob.operator.remote;

/** The machine presented another host key than the one expected: refused, never retried into success. */
public class HostKeyMismatchException extends Exception {
  public HostKeyMismatchException(String message) {
    super(message);
  }
}
