package dev.trainingjob.operator.remote;

/**
 * What the driver does for the machine itself, beyond running the job. Only a provider that owns
 * the machine asks for these (ec2); a machine that stays (local, host) has no guard and is never
 * powered off.
 *
 * @param guardDirectory where the machine's own guard, armed at boot, takes its feed: each probe touches
 *     {@code heartbeat} there, and the driver writes {@code ceiling}; the driver refuses to run the script on a
 *     machine where it is missing (null: the machine has no guard)
 * @param ceilingSeconds when the guard powers the machine off whatever happens, counted from the driver's start
 *     (null: no ceiling; the heartbeat alone bounds the machine)
 * @param outputUri where the driver copies the output paths before the job counts as finished (null: nowhere)
 * @param checkpointUri where the driver copies the checkpoint directory while the script runs, at a notice and at the end, and
 *     restores it from before an attempt on a new machine (null: the checkpoint directory stays on the machine)
 * @param metadataUrl the instance metadata service the driver asks for a spot interruption notice (null: none is asked)
 */
public record MachineDuties(String guardDirectory, Long ceilingSeconds, String outputUri, String checkpointUri, String metadataUrl) {
  public static final MachineDuties NONE = new MachineDuties(null, null, null, null, null);

  public MachineDuties(String guardDirectory, Long ceilingSeconds, String outputUri) {
    this(guardDirectory, ceilingSeconds, outputUri, null, null);
  }
}
