package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class AccessSpec {
  @JsonPropertyDescription("TCP ports on the machine to open (1-65535), for example 6006 for TensorBoard; never the SSH port "
      + "(22), which the operator opens itself to its own addresses only. "
      + "Prefer the kubectl trainingjob tunnel command, which opens nothing.")
  @Size(max = CelRules.MAX_PORTS)
  public List<@Min(1) @Max(65535) Integer> ports;

  @JsonPropertyDescription("CIDRs allowed to reach those ports, for example 203.0.113.0/24. Nothing is opened to 0.0.0.0/0 unless written here.")
  public List<String> allowedCidrs;
}
