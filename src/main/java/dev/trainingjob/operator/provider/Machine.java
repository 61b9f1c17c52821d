package dev.trainingjob.operator.provider;

/**
 * A provider's view of one job's machine.
 *
 * @param id the provider's id (an EC2 instance id, host:port)
 * @param type the instance type, or the provider's name for other machines
 * @param state where the machine is in its life
 * @param address where SSH reaches it; null until known
 * @param sshUser the user to log in as
 * @param launchedAt RFC 3339 time of launch or first use
 * @param message a sentence for status while the machine is not ready (null when nothing to say)
 * @param spot true for a spot instance (its cost estimate is an upper bound)
 * @param reclaimed true for a machine the cloud took back (a spot interruption): the job goes on, on a new one
 */
public record Machine(String id, String type, State state, String address, String sshUser, String launchedAt, String message,
    boolean spot, boolean reclaimed) {
  public Machine(String id, String type, State state, String address, String sshUser, String launchedAt, String message,
      boolean spot) {
    this(id, type, state, address, sshUser, launchedAt, message, spot, false);
  }

  public Machine(String id, String type, State state, String address, String sshUser, String launchedAt, String message) {
    this(id, type, state, address, sshUser, launchedAt, message, false);
  }

  public enum State {
    /** Asked for, not yet reachable. */
    PENDING,
    /** Up; SSH may still take a moment. */
    RUNNING,
    /** Stopped or terminated, by us or from outside. */
    GONE
  }
}
