package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.TrainingBudget;
import dev.trainingjob.operator.api.TrainingBudgetSpec;
import dev.trainingjob.operator.cost.Budgets;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Clock;
import java.time.Duration;

/**
 * Keeps each TrainingBudget's figures current between admissions: remaining after spec.limitUSD changed, a new Monthly
 * period on the first day of the month, and no reservation of a job deleted while no operator ran. It writes through the
 * same {@link BudgetLedger} (the namespace's lock, resourceVersion-checked writes) as admission and settlement, so the two
 * never undo each other's writes. Budgets carry no finalizer: deleting one needs no operator.
 */
@ControllerConfiguration(name = TrainingBudgetReconciler.NAME)
public class TrainingBudgetReconciler implements Reconciler<TrainingBudget> {
  public static final String NAME = "trainingbudget";
  private final BudgetLedger ledger;
  private final Clock clock;

  public TrainingBudgetReconciler(BudgetLedger ledger, Clock clock) {
    this.ledger = ledger;
    this.clock = clock;
  }

  @Override
  public UpdateControl<TrainingBudget> reconcile(TrainingBudget budget, Context<TrainingBudget> context) {
    // also called once the budget is deleted (OperatorFactory asks for every event): its gauges go with it
    var now = ledger.tidy(budget.getMetadata().getNamespace(), budget.getMetadata().getName());
    UpdateControl<TrainingBudget> control = UpdateControl.noUpdate();
    if (now.isPresent() && now.get().getSpec() != null && now.get().getSpec().periodOrDefault() == TrainingBudgetSpec.Period.Monthly) {
      // the next period starts on the first of next month, whether or not anything happens before
      Duration left = Duration.between(clock.instant(), Budgets.nextMonthStart(clock.instant())).plusSeconds(1);
      control.rescheduleAfter(left);
    }
    return control;
  }
}
