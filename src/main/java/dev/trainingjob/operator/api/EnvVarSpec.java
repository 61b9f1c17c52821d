package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class EnvVarSpec {
  @Required
  @Size(max = CelRules.MAX_ENV_NAME)
  @Pattern("^[A-Za-z_][A-Za-z0-9_]*$")
  @JsonPropertyDescription("The variable's name: letters, digits and underscores, not starting with a digit.")
  public String name;

  @JsonPropertyDescription("The variable's value, as written.")
  public String value;

  @JsonPropertyDescription("Where the value comes from, instead of value.")
  public Source valueFrom;

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Source {
    @Required
    @JsonPropertyDescription("A key of a Secret in the job's namespace.")
    public SecretKeyRef secretKeyRef;
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class SecretKeyRef {
    @Required
    @JsonPropertyDescription("The Secret's name.")
    public String name;

    @Required
    @JsonPropertyDescription("The key in the Secret whose value is used.")
    public String key;
  }
}
