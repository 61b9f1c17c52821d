package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** A run of the job that is over: kept in status.runs when a changed spec or a rerun started the next. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RunSummary {
  @JsonPropertyDescription("The run's number (status.run.number while it ran).")
  public Integer number;

  @JsonPropertyDescription("The metadata.generation the run ran.")
  public Long generation;

  @JsonPropertyDescription("How it ended: Succeeded, Failed, or Stopped (a newer spec or a rerun stopped it before its end).")
  public String phase;

  @JsonPropertyDescription("Why, as one reason word (SpecChanged, Rerun, ScriptFailed, ...).")
  public String reason;

  @JsonPropertyDescription("The script's exit status, when it had one.")
  public Integer exitCode;

  @JsonPropertyDescription("When the run began (RFC 3339).")
  public String startedAt;

  @JsonPropertyDescription("When it ended (RFC 3339).")
  public String finishedAt;

  @JsonPropertyDescription("What the run cost, all its attempts together.")
  public Double costUSD;

  @JsonPropertyDescription("Where its outputs were saved: spec.output.s3Uri, or the operator's output directory.")
  public String outputUri;
}
