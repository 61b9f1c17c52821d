package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** The job's place in its namespace's TrainingBudgets: what it reserved at admission, and whether its spend was settled. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class JobBudgetStatus {
  @JsonPropertyDescription("The job's worst case in USD (spec.limits.maxCostUSD, or the price times maxRuntimeSeconds), reserved at "
      + "admission in every TrainingBudget of the namespace.")
  public Double reservedUSD;

  @JsonPropertyDescription("The TrainingBudgets the reservation was made in.")
  public List<String> budgets;

  @JsonPropertyDescription("True once the job ended and its actual cost replaced its reservation in those budgets.")
  public Boolean settled;
}
