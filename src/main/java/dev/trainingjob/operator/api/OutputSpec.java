package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class OutputSpec {
  @JsonPropertyDescription("Files or directories to collect when the script ends, relative to the job's files (for example model.pt or checkpoints/).")
  public List<String> paths;

  @Pattern("^s3://[^/]+(/.*)?$")
  @JsonPropertyDescription("An S3 URI (s3://bucket/prefix) the outputs are copied to from the instance (ec2 only).")
  public String s3Uri;
}
