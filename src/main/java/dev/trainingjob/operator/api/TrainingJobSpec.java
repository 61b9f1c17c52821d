package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crdv2.generator.v1.SchemaCustomizer;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
@SchemaCustomizer(value = SchemaRules.AtMostOneProvider.class, input = "")
public class TrainingJobSpec {
  @Required
  @ValidationRule(value = CelRules.SCRIPT_HAS_FILES, message = CelRules.SCRIPT_HAS_FILES_MESSAGE, reason = CelRules.REQUIRED)
  @ValidationRule(value = CelRules.ENTRYPOINT_INLINE, message = CelRules.ENTRYPOINT_INLINE_MESSAGE, fieldPath = ".entrypoint")
  @JsonPropertyDescription("The Python script to run and where its files come from.")
  public ScriptSpec script;

  @ValidationRule(value = CelRules.CONDA_PACKAGES, message = CelRules.CONDA_PACKAGES_MESSAGE, fieldPath = ".condaPackages")
  @JsonPropertyDescription("How Python is prepared on the machine before the script runs.")
  public PythonSpec python;

  @ValidationRule(value = CelRules.ONE_PROVIDER, message = CelRules.ONE_PROVIDER_MESSAGE)
  @JsonPropertyDescription("Where the job runs: exactly one of ec2, host or local. Without spec.compute, the operator's default provider is used.")
  public ComputeSpec compute;

  @Size(max = CelRules.MAX_ENV)
  @ValidationRule(value = CelRules.ENV_VALUE_OR_SECRET, message = CelRules.ENV_VALUE_OR_SECRET_MESSAGE)
  @ValidationRule(value = CelRules.ENV_NAMES_ONCE, message = CelRules.ENV_NAMES_ONCE_MESSAGE, reason = CelRules.DUPLICATE)
  @ValidationRule(value = CelRules.ENV_NOT_RESERVED, message = CelRules.ENV_NOT_RESERVED_MESSAGE, reason = CelRules.FORBIDDEN)
  @JsonPropertyDescription("Environment variables for the script, given as values or taken from Secrets. Values from Secrets never appear in status, logs or Events.")
  public List<EnvVarSpec> env;

  @JsonPropertyDescription("What the script produces and where it is kept when the job ends.")
  public OutputSpec output;

  @ValidationRule(value = CelRules.PORTS_NEED_CIDRS, message = CelRules.PORTS_NEED_CIDRS_MESSAGE, fieldPath = ".allowedCidrs",
      reason = CelRules.REQUIRED)
  @ValidationRule(value = CelRules.CIDRS_NEED_PORTS, message = CelRules.CIDRS_NEED_PORTS_MESSAGE, fieldPath = ".allowedCidrs")
  @ValidationRule(value = CelRules.NO_SSH_PORT, message = CelRules.NO_SSH_PORT_MESSAGE, fieldPath = ".ports", reason = CelRules.FORBIDDEN)
  @JsonPropertyDescription("Ports on the machine to reach from outside, and from where.")
  public AccessSpec access;

  @JsonPropertyDescription("Limits that stop a job that runs too long.")
  public LimitsSpec limits;

  @JsonPropertyDescription("Where the script keeps its checkpoints, so it can resume after an interruption or a retry.")
  public CheckpointSpec checkpoint;

  @JsonPropertyDescription("When a script that exited with an error is run again.")
  public RetrySpec retry;

  @JsonPropertyDescription("True stops the run (the stop notice, its grace, checkpoint and outputs synced), releases the machine and "
      + "keeps the job in Suspended; false again resumes it as its next attempt, from its checkpoint. As batch/v1 Job's suspend: a "
      + "queue may drive it. Changing it alone is not a new run.")
  public Boolean suspend;

  /**
   * Set instead of the fields when the stored spec could not be read (see {@link TolerantReaders}):
   * which field, and why. Never stored; the job ends InvalidSpec with it.
   */
  @JsonIgnore
  public String unreadable;

}
