package dev.trainingjob.operator.remote;

import java.util.List;
import java.util.Map;

/**
 * One snapshot of a job on its machine, as the probe script reports it.
 *
 * @param state the driver's state file: bootstrapping, running, syncing, exited; "absent" before start
 * @param exitCode the entrypoint's exit status once written
 * @param sessionAlive whether the screen session still exists
 * @param reason why the driver exited when it was not the script (for example bootstrap-failed)
 * @param logTail the last lines of output.log
 * @param progress the last progress record, as parsed JSON (null when none)
 * @param disk disk usage of the file system holding the job (null when unknown)
 * @param gpus one entry per GPU when nvidia-smi exists
 * @param uptimeSeconds the machine's uptime
 */
public record ProbeResult(
    String state,
    Integer exitCode,
    boolean sessionAlive,
    String reason,
    List<String> logTail,
    Map<String, Object> progress,
    Disk disk,
    List<Gpu> gpus,
    Double uptimeSeconds) {

  public static final String ABSENT = "absent";
  /** Started, but the driver has not written its state yet. */
  public static final String STARTING = "starting";
  public static final String BOOTSTRAPPING = "bootstrapping";
  public static final String RUNNING = "running";
  public static final String SYNCING = "syncing";
  public static final String EXITED = "exited";

  public record Disk(long usedBytes, long totalBytes) {
    public double usedPercent() {
      return totalBytes == 0 ? 0 : 100.0 * usedBytes / totalBytes;
    }
  }

  public record Gpu(String name, Double utilizationPercent, Long memoryUsedMiB, Long memoryTotalMiB) {}

  public boolean exited() {
    return EXITED.equals(state) && exitCode != null;
  }
}
