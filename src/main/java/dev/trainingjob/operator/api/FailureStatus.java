package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Why a failed job failed, in words a person can act on: what kind of failure, the line that shows it, what to try. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class FailureStatus {
  /** The kinds of failure the operator recognises; anything else with an exception is a ScriptError. */
  public enum Category {
    OutOfMemory, GpuOutOfMemory, NcclError, DiskFull, MissingModule, BootstrapFailed, Interrupted, Timeout, ScriptError
  }

  @JsonPropertyDescription("What kind of failure: OutOfMemory, GpuOutOfMemory, NcclError, DiskFull, MissingModule, "
      + "BootstrapFailed, Interrupted, Timeout or ScriptError.")
  public Category category;

  @JsonPropertyDescription("The script's exit status (or the driver's, when the script never ran).")
  public Integer exitCode;

  @JsonPropertyDescription("The signal that ended the script, when one did (for example SIGKILL, which the kernel's OOM killer sends).")
  public String signal;

  @JsonPropertyDescription("The line of the log that shows it (secrets masked), when there is one.")
  public String line;

  @JsonPropertyDescription("What to try.")
  public String hint;
}
