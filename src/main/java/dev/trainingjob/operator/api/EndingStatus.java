package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * How a job ends once its outputs are collected, when something other than the script's exit code decides: a stop the
 * operator made (max runtime), a driver that died, a copy to S3 that failed. Recorded before collection starts, so an
 * operator restarted mid-collection ends the job the same way.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class EndingStatus {
  @JsonPropertyDescription("The reason the job ends with (for example MaxRuntimeExceeded, DriverLost, OutputSyncFailed).")
  public String reason;

  @JsonPropertyDescription("What happened, for a person.")
  public String message;

  @JsonPropertyDescription("When it was decided (RFC 3339).")
  public String at;

  public EndingStatus() {}

  public EndingStatus(String reason, String message, String at) {
    this.reason = reason;
    this.message = message;
    this.at = at;
  }
}
