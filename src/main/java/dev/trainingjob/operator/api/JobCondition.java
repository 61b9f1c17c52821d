package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** A Kubernetes-style condition (the shape of metav1.Condition). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class JobCondition {
  @JsonPropertyDescription("The condition's type: Progressing (moving toward its end), Complete (succeeded), Failed (reason says why), Released (nothing the job held is left running), DiskPressure (its file system is over 90% full) or WaitingForCapacity (no allowed instance type has capacity; since lastTransitionTime).")
  public String type;

  @JsonPropertyDescription("True, False or Unknown.")
  public String status;

  @JsonPropertyDescription("A CamelCase word saying why, for searching and alerting (for example InvalidSpec).")
  public String reason;

  @JsonPropertyDescription("A sentence for a person.")
  public String message;

  @JsonPropertyDescription("When status last changed (RFC 3339).")
  public String lastTransitionTime;

  @JsonPropertyDescription("The metadata.generation this condition was set for.")
  public Long observedGeneration;
}
