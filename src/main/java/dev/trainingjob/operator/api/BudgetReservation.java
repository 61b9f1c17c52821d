package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One admitted job's worst case, held in a TrainingBudget until the job ended and its actual cost was counted. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class BudgetReservation {
  @JsonPropertyDescription("The TrainingJob's name.")
  public String job;

  @JsonPropertyDescription("The TrainingJob's uid: the reservation belongs to this very job, not to a later one of the same name.")
  public String uid;

  @JsonPropertyDescription("The job's worst case in USD: spec.limits.maxCostUSD, or the dearest hourly price its machine can "
      + "have times spec.limits.maxRuntimeSeconds.")
  public Double usd;

  @JsonPropertyDescription("When the job was admitted (RFC 3339).")
  public String since;

  public BudgetReservation() {}

  public BudgetReservation(String job, String uid, double usd, String since) {
    this.job = job;
    this.uid = uid;
    this.usd = usd;
    this.since = since;
  }
}
