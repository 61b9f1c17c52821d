package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;

/** Where the script keeps what it needs to go on after an interruption or a retry. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CheckpointSpec {
  public static final String DEFAULT_PATH = "checkpoints";
  public static final long DEFAULT_SYNC_INTERVAL_SECONDS = 600;
  public static final long MIN_SYNC_INTERVAL_SECONDS = 5;

  @JsonPropertyDescription("A directory relative to the job's files, given to the script as TRAININGJOB_CHECKPOINT_DIR. It survives "
      + "retries on the same machine, and on ec2 it is copied to s3Uri and restored before the script starts on a new instance. "
      + "Default: checkpoints.")
  public String path;

  @Pattern("^s3://[^/]+(/.*)?$")
  @JsonPropertyDescription("Where checkpoints are copied on ec2 (s3://bucket/prefix). Default: spec.output.s3Uri followed by "
      + "/checkpoints/. Without either, checkpoints survive retries on the same machine only.")
  public String s3Uri;

  @Min(MIN_SYNC_INTERVAL_SECONDS)
  @Max(LimitsSpec.MAX_SECONDS)
  @JsonPropertyDescription("How often, in seconds, the checkpoint directory is copied to s3Uri while the script runs (besides at an "
      + "interruption notice and at the end), so that a machine lost without notice loses at most this much. Default: 600.")
  public Long syncIntervalSeconds;

  /** The checkpoint directory relative to the job's files. */
  public static String pathOf(CheckpointSpec c) {
    return c == null || c.path == null || c.path.isBlank() ? DEFAULT_PATH : c.path.replaceAll("/+$", "");
  }

  /** Where checkpoints go on ec2, or null when neither checkpoint.s3Uri nor output.s3Uri names a place. */
  public static String s3UriOf(CheckpointSpec c, OutputSpec output) {
    if (c != null && c.s3Uri != null && !c.s3Uri.isBlank()) {
      return c.s3Uri.replaceAll("/+$", "");
    }
    if (output != null && output.s3Uri != null && !output.s3Uri.isBlank()) {
      return output.s3Uri.replaceAll("/+$", "") + "/checkpoints";
    }
    return null;
  }

  public static long syncIntervalOf(CheckpointSpec c) {
    return c == null || c.syncIntervalSeconds == null ? DEFAULT_SYNC_INTERVAL_SECONDS : c.syncIntervalSeconds;
  }
}
