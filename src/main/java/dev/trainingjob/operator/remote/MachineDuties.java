package dev.trainingjob.operator.remote;

/**
 * What the driver does for the machine itself, beyond running the job. Only a provider that owns
 * the machine asks for these (ec2); a machine that stays (local, host) is never shut down.
 *
 * @param shutdownAfterSeconds when the machine powers itself off, counted from the driver's start (null: never)
 * @param shutdownCommand the command that schedules it, run with $1 = minutes and $2 = seconds
 * @param outputUri where the driver copies the output paths before the job counts as finished (null: nowhere)
 */
public record MachineDuties(Long shutdownAfterSeconds, String shutdownCommand, String outputUri) {
  public static final MachineDuties NONE = new MachineDuties(null, null, null);
}
