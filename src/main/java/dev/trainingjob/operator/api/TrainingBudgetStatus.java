package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.PrinterColumn;
import java.util.ArrayList;
import java.util.List;

/** The budget's ledger: written by the operator only, when it admits a job, when a job ended, and when a period starts. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class TrainingBudgetStatus {
  @JsonPropertyDescription("The actual cost in USD of the jobs that ended in this period (status.cost.totalUSD of each).")
  public Double spentUSD;

  @JsonPropertyDescription("The sum of the reservations: the worst cases of the jobs admitted and not ended yet.")
  public Double reservedUSD;

  @JsonPropertyDescription("limitUSD - spentUSD - reservedUSD: what a job's worst case must fit in to be admitted.")
  public Double remainingUSD;

  @JsonPropertyDescription("When the current period started (RFC 3339): the first day of the month (UTC) for Monthly, the "
      + "budget's creation for Total.")
  public String periodStart;

  @JsonPropertyDescription("The jobs admitted under this budget that have not ended yet, each with its worst case.")
  public List<BudgetReservation> reservations = new ArrayList<>();

  @JsonPropertyDescription("The spec's generation these figures were last computed for.")
  public Long observedGeneration;

  @JsonPropertyDescription("The figures as kubectl get shows them ($10.00).")
  public Shown shown;

  /** The columns of kubectl get trainingbudgets. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Shown {
    @JsonPropertyDescription("spec.limitUSD, as $10.00.")
    @PrinterColumn(name = "Limit")
    public String limit;

    @JsonPropertyDescription("spentUSD, as $4.00.")
    @PrinterColumn(name = "Spent")
    public String spent;

    @JsonPropertyDescription("reservedUSD, as $8.00.")
    @PrinterColumn(name = "Reserved")
    public String reserved;

    @JsonPropertyDescription("remainingUSD, as $2.00.")
    @PrinterColumn(name = "Remaining")
    public String remaining;
  }
}
