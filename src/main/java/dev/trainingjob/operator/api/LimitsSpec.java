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
}
