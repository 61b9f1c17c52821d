package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** The run in progress: which spec it runs, so that a changed spec (or a rerun) is seen as a new run. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RunStatus {
  @JsonPropertyDescription("1 for the job's first run, then one more for each new run.")
  public Integer number;

  @JsonPropertyDescription("The metadata.generation the run was started with.")
  public Long generation;

  @JsonPropertyDescription("A digest of the spec the run runs (spec.suspend left out): a different one is a new run.")
  public String specDigest;

  @JsonPropertyDescription("A digest of spec.compute and spec.python: while it is the same, a new run reuses the machine and its "
      + "Python environment.")
  public String machineDigest;

  @JsonPropertyDescription("The value of the annotation trainingjob.dev/rerun this run answered, if any.")
  public String rerun;

  @JsonPropertyDescription("When the run began (RFC 3339): the machine it reuses is paid for by this run from here.")
  public String startedAt;

  @JsonPropertyDescription("The spec.output.paths of the run's spec: what is collected when it ends, whatever a newer spec asks.")
  public java.util.List<String> outputPaths;

  @JsonPropertyDescription("True once a run on the machine of the run before was admitted under the namespace's "
      + "TrainingBudgets.")
  public Boolean admitted;

  @JsonPropertyDescription("True while the machine's job directory still holds the previous run: it is cleared (Python and "
      + "the checkpoint kept) before this run's files go up.")
  public Boolean reusesMachine;
}
