package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crdv2.generator.v1.SchemaCustomizer;
import io.fabric8.generator.annotation.Required;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
@SchemaCustomizer(value = SchemaRules.AtMostOneProvider.class, input = "")
public class TrainingJobSpec {
  @Required
  @JsonPropertyDescription("The Python script to run and where its files come from.")
  public ScriptSpec script;

  @JsonPropertyDescription("How Python is prepared on the machine before the script runs.")
  public PythonSpec python;

  @JsonPropertyDescription("Where the job runs: at most one of ec2, host or local. When none is named, the operator's default provider is used.")
  public ComputeSpec compute;

  @JsonPropertyDescription("Environment variables for the script, given as values or taken from Secrets. Values from Secrets never appear in status, logs or Events.")
  public List<EnvVarSpec> env;

  @JsonPropertyDescription("What the script produces and where it is kept when the job ends.")
  public OutputSpec output;

  @JsonPropertyDescription("Ports on the machine to reach from outside, and from where.")
  public AccessSpec access;

  @JsonPropertyDescription("Limits that stop a job that runs too long.")
  public LimitsSpec limits;

  @JsonPropertyDescription("Where the script keeps its checkpoints, so it can resume after an interruption or a retry.")
  public CheckpointSpec checkpoint;

  @JsonPropertyDescription("When a script that exited with an error is run again.")
  public RetrySpec retry;

  /**
   * Set instead of the fields when the stored spec could not be read (see {@link TolerantReaders}):
   * which field, and why. Never stored; the job ends InvalidSpec with it.
   */
  @JsonIgnore
  public String unreadable;

}
