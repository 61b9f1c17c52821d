package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.crd.generator.annotation.PrinterColumn;
import java.util.ArrayList;
import java.util.List;

// Field order matters: it is the order of the printer columns in kubectl get.
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"phase", "progress", "instance", "message"})
public class TrainingJobStatus {
  @JsonPropertyDescription("Where the job is: Pending, Provisioning, Bootstrapping, Running, Finishing, Succeeded, Failed or "
      + "Suspended.")
  @PrinterColumn(name = "Phase")
  public Phase phase;

  @JsonPropertyDescription("Kubernetes-style conditions that say why the job is where it is.")
  public List<JobCondition> conditions = new ArrayList<>();

  @JsonPropertyDescription("The metadata.generation the operator has seen and acted on (a changed spec's run may still be "
      + "stopping: status.run.generation says which spec runs).")
  public Long observedGeneration;

  @JsonPropertyDescription("The current run: the spec it runs (a changed spec, or a new value of the annotation "
      + "trainingjob.dev/rerun, is a new run).")
  public RunStatus run;

  @JsonPropertyDescription("The previous runs of this job, newest first, at most 10.")
  public List<RunSummary> runs;

  @JsonPropertyDescription("The operator shard that took the job (the value of its label trainingjob.dev/shard then, or "
      + "default for none), written before anything was done for it: that shard alone acts on the job, whatever the label "
      + "says later.")
  public String shard;

  @JsonPropertyDescription("The provider that holds the job's machine (ec2, host or local), recorded when the job was admitted: the machine is always released through it, whatever spec.compute says later.")
  public String provider;

  @JsonPropertyDescription("spec.compute as admitted (for ec2: the image resolved to its AMI id, and only the instance types that can run it): the machine is made, reached and released as this says, whatever the spec says later.")
  public ComputeSpec compute;

  @JsonPropertyDescription("The machine the job runs on.")
  public InstanceStatus instance;

  @JsonPropertyDescription("How far the script has come, from its progress file or its output.")
  public ProgressStatus progress;

  @JsonPropertyDescription("The last lines the script printed (bounded in size).")
  public List<String> logTail;

  @JsonPropertyDescription("The script's exit status, once it has ended.")
  public Integer exitCode;

  @JsonPropertyDescription("When the script was started (RFC 3339).")
  public String startedAt;

  @JsonPropertyDescription("When the job reached Succeeded or Failed (RFC 3339).")
  public String finishedAt;

  @JsonPropertyDescription("A sentence about the job's state for a person: what it waits for, or why it failed.")
  @PrinterColumn(name = "Message", priority = 1)
  public String message;

  @JsonPropertyDescription("The command that attaches a terminal to the script's screen session.")
  public String attachCommand;

  @JsonPropertyDescription("Disk and GPU use on the machine, from the last probe.")
  public MachineUsage usage;

  @JsonPropertyDescription("What the job has cost so far, all attempts together, at a price with a named source.")
  public CostStatus cost;

  @JsonPropertyDescription("The job's reservation in its namespace's TrainingBudgets, when it has any.")
  public JobBudgetStatus budget;

  @JsonPropertyDescription("Where the outputs were copied (spec.output.s3Uri), once the copy succeeded.")
  public String outputUri;

  @JsonPropertyDescription("When the job passed each milestone.")
  public Timings timings;

  @JsonPropertyDescription("The current attempt: 1 for the script's first run, 2 for the next (a retry, or a relaunch after an "
      + "interruption), and so on.")
  public Integer attempt;

  @JsonPropertyDescription("One entry per finished attempt, oldest first: its machine, how it ended, and what it cost.")
  public List<AttemptStatus> attempts;

  @JsonPropertyDescription("How many spot interruptions the job has had.")
  public Integer interruptions;

  @JsonPropertyDescription("How many times the script was run again after an exit code spec.retry names.")
  public Integer retries;

  @JsonPropertyDescription("Launch number; part of the idempotency token of cloud launches (a new launch after a spot interruption, "
      + "or after the token's instance went away before it ran, takes the next).")
  public Integer launch;

  @JsonPropertyDescription("True once the job gave spot up (more interruptions than spec.compute.ec2.maxInterruptions, or no spot "
      + "capacity within the pending deadline): its launches from then on are on-demand.")
  public Boolean onDemandFallback;

  @JsonPropertyDescription("The last value of the annotation trainingjob.dev/interrupt the operator acted on.")
  public String interruptRequest;

  @JsonPropertyDescription("The value of the annotation trainingjob.dev/release when the last run ended: that request was "
      + "for a run before, and does not end this run's debug hold.")
  public String releaseRequest;

  @JsonPropertyDescription("Why the job failed, when the script (or its bootstrap, or its time limit) was the cause: the kind of "
      + "failure, the line of the log that shows it, and a hint.")
  public FailureStatus failure;

  @JsonPropertyDescription("How the job ends once its outputs are collected, when something other than the exit code decides "
      + "(a stop the operator made, a driver that died, a failed copy to S3).")
  public EndingStatus ending;

  @JsonPropertyDescription("What became of the outputs: where they were saved, which the script did not write, and what "
      + "could not be saved and why.")
  public OutputsStatus outputs;
}
