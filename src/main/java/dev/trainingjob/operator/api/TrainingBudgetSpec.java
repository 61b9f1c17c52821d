package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

/** How much the namespace's TrainingJobs may cost, and over which period. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class TrainingBudgetSpec {
  /** Over which time spentUSD is counted. */
  public enum Period {
    /** From the first day of each month (UTC): spentUSD starts again from 0. */
    Monthly,
    /** Since the budget was created: spentUSD never starts again. */
    Total
  }

  @Required
  @Min(value = 0, inclusive = false)
  @JsonPropertyDescription("What the namespace's TrainingJobs may cost in USD per period: the jobs' actual costs (spent) plus "
      + "the worst cases of the jobs that run (reserved). Raising it admits jobs that wait.")
  public Double limitUSD;

  @Default("Monthly")
  @JsonPropertyDescription("Monthly (the default): spent counts from the first day of each month, UTC, and starts again from 0; "
      + "Total: spent counts since the budget was created.")
  public Period period;

  /**
   * Set (never stored) when the stored spec could not be read (an API server that does not enforce the schema): which field,
   * and why. Such a budget admits nothing until it is fixed.
   */
  @JsonIgnore
  public String unreadable;

  /** The period, Monthly when unset. */
  public Period periodOrDefault() {
    return period == null ? Period.Monthly : period;
  }
}
