package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.JobBudgetStatus;
import dev.trainingjob.operator.api.LimitsSpec;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.cost.Budgets;
import dev.trainingjob.operator.cost.Price;
import dev.trainingjob.operator.job.JobFailure;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.status.Conditions;
import dev.trainingjob.operator.status.CostEstimate;
import java.util.Optional;
import java.util.OptionalDouble;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The namespace's TrainingBudgets at admission and at the end: the job's worst case is reserved in every budget before
 * anything is launched (or the job waits in Pending, holding nothing), and replaced by its actual cost once it ended and its
 * machine was released.
 */
final class BudgetAdmission {
  private static final Logger LOG = LoggerFactory.getLogger(BudgetAdmission.class);

  private BudgetAdmission() {}

  /** The job's worst case in USD, and what it comes from (for messages). */
  record WorstCase(double usd, String from) {}

  /**
   * Admission under the namespace's budgets. Empty when the job goes on (no budgets, or its worst case is reserved in each);
   * a requeue while a budget has no room for it.
   *
   * @throws JobFailure InvalidSpec when the namespace has budgets and the job has no worst case
   */
  static Optional<StepResult> admit(JobContext ctx) {
    Optional<WorstCase> worst = worstCase(ctx);
    BudgetLedger.Admission admission;
    try {
      admission = ctx.budgets().admit(ctx.job(), worst.map(w -> OptionalDouble.of(w.usd())).orElse(OptionalDouble.empty()));
    } catch (BudgetLedger.Unbounded unbounded) {
      throw new JobFailure(Reason.InvalidSpec, unboundedMessage(ctx, unbounded));
    }
    var status = ctx.status();
    if (admission instanceof BudgetLedger.Waiting waiting) {
      var b = waiting.budget();
      String message = Budgets.unreadable(b).isPresent()
          ? "Waiting for TrainingBudget " + b.getMetadata().getName() + ", whose spec cannot be read (" + Budgets.unreadable(b).get()
              + "); nothing is launched until it is fixed"
          : "Waiting for TrainingBudget " + b.getMetadata().getName() + ": the job's worst case "
          + Budgets.dollars(worst.orElseThrow().usd()) + " (" + worst.get().from() + ") does not fit in the "
          + Budgets.dollars(waiting.remaining()) + " that remains (limit " + Budgets.dollars(Budgets.limit(b)) + ", spent "
          + Budgets.dollars(Budgets.spent(b)) + ", reserved " + Budgets.dollars(Budgets.reserved(b))
          + "); nothing is launched until it fits";
      boolean wasWaiting = Conditions.isTrue(status, ConditionType.BUDGET_EXHAUSTED);
      Conditions.set(status, ConditionType.BUDGET_EXHAUSTED, true, Reason.BudgetExhausted, message,
          ctx.job().getMetadata().getGeneration(), ctx.nowText());
      if (!wasWaiting) {
        ctx.events().normal(ctx.job(), Reason.BudgetExhausted, message);
      }
      ctx.moveTo(Phase.Pending, Reason.BudgetExhausted, message);
      return Optional.of(StepResult.checkAgainAfter(ctx.config().pollInterval()));
    }
    if (admission instanceof BudgetLedger.Admitted admitted) {
      JobBudgetStatus budget = new JobBudgetStatus();
      budget.reservedUSD = admitted.usd();
      budget.budgets = admitted.budgets();
      budget.settled = false;
      status.budget = budget;
      String message = "Reserved the worst case " + Budgets.dollars(admitted.usd()) + " in TrainingBudget"
          + (admitted.budgets().size() == 1 ? " " : "s ") + String.join(", ", admitted.budgets());
      if (Conditions.isTrue(status, ConditionType.BUDGET_EXHAUSTED)) {
        ctx.timings().admitted = ctx.nowText(); // the pending deadline counts from here, not from the job's creation
      }
      if (Conditions.find(status, ConditionType.BUDGET_EXHAUSTED) != null) {
        Conditions.set(status, ConditionType.BUDGET_EXHAUSTED, false, Reason.BudgetAdmitted, message,
            ctx.job().getMetadata().getGeneration(), ctx.nowText());
      }
      ctx.events().normal(ctx.job(), Reason.BudgetAdmitted, message);
    }
    return Optional.empty();
  }

  /** spec.limits.maxCostUSD; else the dearest hourly price the job's machine can have times maxRuntimeSeconds. */
  static Optional<WorstCase> worstCase(JobContext ctx) {
    LimitsSpec limits = ctx.job().getSpec().limits;
    if (limits != null && limits.maxCostUSD != null) {
      return Optional.of(new WorstCase(limits.maxCostUSD, "spec.limits.maxCostUSD"));
    }
    if (limits == null || limits.maxRuntimeSeconds == null) {
      return Optional.empty();
    }
    Optional<Price> price = ctx.prices().worstCase(ctx.job(), ctx.providerName());
    return price.map(p -> new WorstCase(p.forSeconds(limits.maxRuntimeSeconds), Budgets.dollars(p.usdPerHour()) + "/h ("
        + p.source() + ") for spec.limits.maxRuntimeSeconds " + limits.maxRuntimeSeconds + "s"));
  }

  private static String unboundedMessage(JobContext ctx, BudgetLedger.Unbounded unbounded) {
    LimitsSpec limits = ctx.job().getSpec().limits;
    String why = limits != null && limits.maxRuntimeSeconds != null
        ? "spec.limits.maxRuntimeSeconds is set, but the price of the job's machine is not known (an instance type missing from "
            + "the price list), so set spec.limits.maxCostUSD"
        : "set spec.limits.maxCostUSD, or spec.limits.maxRuntimeSeconds with a machine whose price is known";
    return "Namespace " + ctx.job().getMetadata().getNamespace() + " has TrainingBudget" + (unbounded.budgets().size() == 1 ? " " : "s ")
        + String.join(", ", unbounded.budgets()) + ", and an unbounded job cannot run under a budget: " + why;
  }

  /**
   * Once the job ended and its machine was released (or none was launched), its reservation is replaced by its actual cost in
   * every budget that holds it; status.budget.settled says so. False when the budgets could not be written now (tried again
   * on the next reconcile).
   */
  static boolean settleIfEnded(JobContext ctx) {
    var status = ctx.status();
    if (status.phase == null || !status.phase.isFinal() || status.budget != null && Boolean.TRUE.equals(status.budget.settled)
        || !Conditions.isTrue(status, ConditionType.RELEASED)) {
      return true;
    }
    try {
      // a job without status.budget is settled too: an admission cut short (an error between two budgets' writes) may have
      // left a reservation in some budget before the job ended another way
      var settled = ctx.budgets().settle(ctx.job(), actualCost(ctx));
      if (status.budget == null && !settled.isEmpty()) {
        status.budget = new JobBudgetStatus();
        status.budget.budgets = settled;
      }
      if (status.budget != null) {
        status.budget.settled = true;
      }
      return true;
    } catch (RuntimeException e) {
      LOG.warn("{}: cannot settle its TrainingBudgets yet: {}", ctx.job().ref(), e.getMessage());
      return false;
    }
  }

  /** At deletion, once released: whatever any budget of the namespace still holds for the job is settled. */
  static void settleAtDeletion(JobContext ctx) {
    ctx.budgets().settle(ctx.job(), actualCost(ctx));
    if (ctx.status().budget != null) {
      ctx.status().budget.settled = true;
    }
  }

  private static double actualCost(JobContext ctx) {
    CostEstimate.apply(ctx.job(), ctx.prices(), ctx.now());
    var cost = ctx.status().cost;
    return cost == null || cost.totalUSD == null ? 0 : cost.totalUSD;
  }
}
