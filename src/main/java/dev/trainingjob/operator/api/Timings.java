package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** When a job passed each milestone (RFC 3339), so a slow step shows where the time went. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Timings {
  @JsonPropertyDescription("When the machine was up.")
  public String provisioned;

  @JsonPropertyDescription("When SSH first answered.")
  public String sshReady;

  @JsonPropertyDescription("When Python was ready and the script started.")
  public String bootstrapped;

  @JsonPropertyDescription("When the current attempt began (after the first): the pending deadline counts from here.")
  public String attemptStarted;

  @JsonPropertyDescription("When the first progress was seen.")
  public String firstProgress;

  @JsonPropertyDescription("When the script ended.")
  public String finished;

  @JsonPropertyDescription("When everything the job held was released.")
  public String released;

  @JsonPropertyDescription("When the job was admitted after it waited for room in a TrainingBudget: the pending deadline counts "
      + "from here (the wait itself costs nothing, and has no deadline).")
  public String admitted;

  @JsonPropertyDescription("When the script last showed activity: a new progress record or a new output line (spec.limits."
      + "stallSeconds counts from here).")
  public String lastActivity;

  @JsonPropertyDescription("Since when every GPU has been below spec.limits.idleGpu.belowPercent; absent while one is busy.")
  public String gpuIdleSince;

  @JsonPropertyDescription("When the job was suspended (spec.suspend), while it is.")
  public String suspended;

  @JsonPropertyDescription("How long the run has spent suspended, all suspensions together: spec.limits.maxRuntimeSeconds does not "
      + "count it.")
  public Long suspendedSeconds;
}
