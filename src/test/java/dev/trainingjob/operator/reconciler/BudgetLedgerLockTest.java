package dev.trainingjob.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.embedded.EmbeddedKubernetes;
import dev.trainingjob.operator.metrics.OperatorMetrics;
import dev.trainingjob.operator.support.Jobs;
import java.time.Clock;
import java.util.List;
import java.util.OptionalDouble;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A namespace without TrainingBudgets has nothing for its jobs to wait on: a burst of jobs is admitted and settled side by
 * side, none queued behind another's decision (measured: 150 jobs created at once held the reconcile threads on the
 * namespace's lock, each holding it across a LIST of the budgets).
 */
class BudgetLedgerLockTest {
  private static TrainingJob job() {
    TrainingJob job = Jobs.simple("j-" + UUID.randomUUID().toString().substring(0, 8));
    job.getMetadata().setUid(UUID.randomUUID().toString());
    return job;
  }

  @Test
  void jobsOfANamespaceWithoutBudgetsAreAdmittedAndSettledWhileAnotherDecisionHoldsItsLock() throws Exception {
    try (EmbeddedKubernetes api = new EmbeddedKubernetes().start(0)) {
      var ledger = new BudgetLedger(api.client(), Clock.systemUTC(), OperatorMetrics.discarding());
      var held = ledger.lockOf("default");
      var holding = new java.util.concurrent.CountDownLatch(1);
      var letGo = new java.util.concurrent.CountDownLatch(1);
      Thread decision = new Thread(() -> {
        held.lock(); // a decision in progress (another job's, slow to list)
        try {
          holding.countDown();
          letGo.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } finally {
          held.unlock();
        }
      });
      decision.start();
      holding.await();
      try {
        var admitted = CompletableFuture.supplyAsync(() -> ledger.admit(job(), OptionalDouble.of(1.0)));
        var settled = CompletableFuture.supplyAsync(() -> ledger.settle(job(), 0.5));
        assertThat(admitted.get(10, TimeUnit.SECONDS)).isInstanceOf(BudgetLedger.NoBudgets.class);
        assertThat(settled.get(10, TimeUnit.SECONDS)).isEqualTo(List.of());
      } finally {
        letGo.countDown();
        decision.join();
      }
    }
  }

  /**
   * Settling a job (every job, when it ends) asks the API nothing in a namespace the operator's informer knows no budget
   * in: with many jobs ending at once, that LIST per settlement held the reconcile threads (issue 19's benchmark). A job
   * that reserved is settled from the API as before, whatever the informer knows.
   */
  @Test
  void aSettlementWhereTheInformerKnowsNoBudgetAsksTheApiNothingAndAJobThatReservedIsSettledAllTheSame() throws Exception {
    try (EmbeddedKubernetes api = new EmbeddedKubernetes().start(0)) {
      var ledger = new BudgetLedger(api.client(), Clock.systemUTC(), OperatorMetrics.discarding());
      var budget = new dev.trainingjob.operator.api.TrainingBudget();
      budget.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("team").withNamespace("funded").build());
      budget.setSpec(new dev.trainingjob.operator.api.TrainingBudgetSpec());
      budget.getSpec().limitUSD = 10.0;
      api.client().resource(budget).create();
      TrainingJob funded = job();
      funded.getMetadata().setNamespace("funded");
      assertThat(ledger.admit(funded, OptionalDouble.of(4.0))).isInstanceOf(BudgetLedger.Admitted.class);
      ledger.knowBudgetsFrom(namespace -> false);

      int before = api.requests(r -> true).size();
      assertThat(ledger.settle(job(), 0.5)).isEmpty();
      assertThat(api.requests(r -> true).subList(before, api.requests(r -> true).size()))
          .as("no request for a job of a namespace without budgets").isEmpty();

      // a job that reserved asks the API even where the informer knows no budget yet: it may end a moment after a budget
      // applied together with it was found by its admission
      ledger.knowBudgetsFrom(namespace -> false);
      funded.setStatus(new dev.trainingjob.operator.api.TrainingJobStatus());
      funded.getStatus().budget = new dev.trainingjob.operator.api.JobBudgetStatus();
      funded.getStatus().budget.budgets = List.of("team");
      assertThat(ledger.settle(funded, 1.25)).containsExactly("team");
      var settled = api.client().resources(dev.trainingjob.operator.api.TrainingBudget.class).inNamespace("funded")
          .withName("team").get();
      assertThat(settled.getStatus().reservations).isEmpty();
      assertThat(settled.getStatus().spentUSD).isEqualTo(1.25);
    }
  }
}
