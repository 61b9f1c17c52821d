package dev.trainingjob.operator.remote;

/** A command on the machine exited with a status that means something (see start.sh). */
public class RemoteCommandException extends Exception {
  private final int exitStatus;

  public RemoteCommandException(String message, int exitStatus) {
    super(message);
    this.exitStatus = exitStatus;
  }

  public int exitStatus() {
    return exitStatus;
  }
}
