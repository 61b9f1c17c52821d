package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class LimitsSpec {
  /** 28 days, the longest SageMaker lets a training job run. */
  public static final long MAX_SECONDS = 28L * 24 * 3600;
  public static final long DEFAULT_MAX_PENDING_SECONDS = 3600;

  @Min(1)
  @Max(MAX_SECONDS)
  @JsonPropertyDescription("The longest the script may run, in seconds from its start: then it is stopped and the job fails with "
      + "MaxRuntimeExceeded. An ec2 instance also powers itself off some time after that, even if the operator is gone.")
  public Long maxRuntimeSeconds;

  @Min(1)
  @Max(MAX_SECONDS)
  @JsonPropertyDescription("The longest a job may take from its creation until the script runs (waiting for capacity, for SSH, "
      + "for Python to be prepared), in seconds. Then it fails with PendingTimeout and its machine is released. Default: 3600.")
  public Long maxPendingSeconds;

  @Min(0)
  @Max(MAX_SECONDS)
  @JsonPropertyDescription("After a failure, keep the machine this many seconds for debugging: the instance, the job's "
      + "directory, and a shell in the job's screen session (kubectl trainingjob attach lands there). The DebugHold condition "
      + "says until when; the machine costs money meanwhile. kubectl trainingjob release, or deleting the job, ends it early. "
      + "Default: 0 (released at once).")
  public Long keepAfterFailureSeconds;

  @Min(0.01)
  @JsonPropertyDescription("The most this job may cost in USD, all attempts together, at the price status.cost names. Before "
      + "one more probe interval would pass it, the script gets the stop notice (the interrupt file, SIGTERM, the grace "
      + "period; checkpoint and outputs copied) and the job ends Failed with BudgetExceeded. Under a TrainingBudget it is "
      + "the job's worst case.")
  public Double maxCostUSD;

  @Min(1)
  @Max(MAX_SECONDS)
  @JsonPropertyDescription("A script that writes no new progress record and no new output line for this many seconds is "
      + "stopped as Stalled (run again when spec.retry allows another attempt).")
  public Long stallSeconds;

  @JsonPropertyDescription("Stops a job whose GPUs all stay below a utilisation for a time (IdleGpu).")
  public IdleGpuSpec idleGpu;

  @Min(0.01)
  @JsonPropertyDescription("When the job's file system has less than this many GiB free, the script gets the stop notice and "
      + "the job ends Failed with DiskFull, before the disk is full (so outputs and checkpoints can still be written).")
  public Double minFreeDiskGiB;

  /** Every GPU below a utilisation for a time: the machine is paid for and does nothing. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class IdleGpuSpec {
    @io.fabric8.generator.annotation.Required
    @Min(1)
    @Max(100)
    @JsonPropertyDescription("Utilisation in percent that every GPU stays below.")
    public Double belowPercent;

    @io.fabric8.generator.annotation.Required
    @Min(1)
    @Max(MAX_SECONDS)
    @JsonPropertyDescription("For how many seconds in a row (counted from the first probe that saw it) before the job is stopped "
        + "as IdleGpu.")
    public Long forSeconds;
  }
}
