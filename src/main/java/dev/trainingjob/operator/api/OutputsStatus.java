package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** What became of the job's outputs (spec.output.paths) when it ended: where they are, and what is not there and why. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class OutputsStatus {
  @JsonPropertyDescription("The S3 prefix the machine copied the outputs to (spec.output.s3Uri), when that copy succeeded.")
  public String uri;

  @JsonPropertyDescription("The operator's directory the outputs were collected into over SFTP (kubectl trainingjob outputs "
      + "fetches them from there).")
  public String directory;

  @JsonPropertyDescription("The output paths that were saved (copied or collected).")
  public List<String> collected;

  @JsonPropertyDescription("The output paths the script did not write.")
  public List<String> missing;

  @JsonPropertyDescription("Why the outputs, or some of them, were not saved (the machine was gone, the collect deadline or "
      + "size bound was reached, the copy failed); absent when everything the script wrote was saved.")
  public String notSaved;
}
