package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class LimitsSpec {
  @Min(1)
  @JsonPropertyDescription("The longest the script may run, in seconds from its start: then it is stopped and the job fails with "
      + "MaxRuntimeExceeded. An ec2 instance also powers itself off some time after that, even if the operator is gone.")
  public Long maxRuntimeSeconds;
}
