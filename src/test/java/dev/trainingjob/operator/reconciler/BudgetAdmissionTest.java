package dev.trainingjob.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.api.ComputeSpec;
import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.LimitsSpec;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingBudget;
import dev.trainingjob.operator.api.TrainingBudgetSpec;
import dev.trainingjob.operator.api.TrainingBudgetStatus;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.metrics.OperatorMetrics;
import dev.trainingjob.operator.status.Conditions;
import dev.trainingjob.operator.support.RecordingProvider;
import dev.trainingjob.operator.support.ScriptedRemoteHosts;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import dev.trainingjob.operator.support.EmbeddedApi;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A namespace's TrainingBudgets at admission and at the end, with the reconciler called as JOSDK would and a test clock:
 * the budgets live in the embedded API (CRUD with resourceVersion checks), the jobs in memory. Each test has its namespace.
 */
class BudgetAdmissionTest {
  /** $3.60 an hour: a second of the machine costs a tenth of a cent, 1000 seconds cost $1.00. */
  private static final double PRICE = 3.6;
  @RegisterExtension
  static final EmbeddedApi API = new EmbeddedApi();

  private final RecordingProvider provider = new RecordingProvider("local");
  private final ScriptedRemoteHosts remote = new ScriptedRemoteHosts();
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

  private SyncOperator operator() {
    SyncOperator operator = new SyncOperator(OperatorConfig.defaults(), "local", List.of(provider), remote, API.client(),
        new OperatorMetrics(meters));
    provider.clock = operator.clock; // machines are paid for in the test's time
    return operator;
  }

  static TrainingBudget budget(String namespace, String name, double limitUSD, TrainingBudgetSpec.Period period) {
    TrainingBudget budget = new TrainingBudget();
    budget.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace).build());
    budget.setSpec(new TrainingBudgetSpec());
    budget.getSpec().limitUSD = limitUSD;
    budget.getSpec().period = period;
    return API.client().resource(budget).create();
  }

  static TrainingBudget budget(String namespace, String name) {
    return API.client().resources(TrainingBudget.class).inNamespace(namespace).withName(name).get();
  }

  /** A job on a $3.60/h machine whose worst case is {@code maxCostUSD} (null: none). */
  static TrainingJob job(String namespace, String name, Double maxCostUSD) {
    TrainingJob job = SyncOperator.job(name);
    job.getMetadata().setNamespace(namespace);
    job.getSpec().compute = new ComputeSpec();
    job.getSpec().compute.local = new ComputeSpec.LocalSpec();
    job.getSpec().compute.local.hourlyPriceUSD = PRICE;
    if (maxCostUSD != null) {
      job.getSpec().limits = new LimitsSpec();
      job.getSpec().limits.maxCostUSD = maxCostUSD;
    }
    // in the API too, as the jobs a budget holds room for are (the ledger drops the reservations of jobs that are gone)
    TrainingJob created = API.client().resource(job).create();
    job.getMetadata().setUid(created.getMetadata().getUid());
    return job;
  }

  private static boolean settled(TrainingJob job) {
    return job.getStatus().budget != null && Boolean.TRUE.equals(job.getStatus().budget.settled);
  }

  /** Runs an admitted job for {@code seconds} of the test's time, to Succeeded, its machine released and its budgets settled. */
  private static void runToTheEnd(SyncOperator operator, TrainingJob job, long seconds) throws Exception {
    operator.reconcileUntil(job, Phase.Running);
    operator.clock.advance(Duration.ofSeconds(seconds));
    operator.reconcileUntil(job, Phase.Succeeded);
    for (int i = 0; i < 10 && !settled(job); i++) {
      operator.reconcile(job);
    }
    assertThat(Conditions.isTrue(job.getStatus(), ConditionType.RELEASED)).isTrue();
    assertThat(settled(job)).as("settled once released").isTrue();
  }

  private static void assertFigures(TrainingBudget budget, double spent, double reserved, double remaining) {
    TrainingBudgetStatus s = budget.getStatus();
    assertThat(s.spentUSD).as("spent").isEqualTo(spent);
    assertThat(s.reservedUSD).as("reserved").isEqualTo(reserved);
    assertThat(s.remainingUSD).as("remaining").isEqualTo(remaining);
  }

  private double gauge(String name, String namespace, String budget) {
    return meters.get(name).tag("namespace", namespace).tag("budget", budget).gauge().value();
  }

  @Test
  void twoJobsOfFourRunUnderTenAndTheThirdWaitsUnlaunchedUntilOneIsSettled() throws Exception {
    String ns = "three-jobs";
    budget(ns, "team", 10, null);
    SyncOperator operator = operator();
    TrainingJob first = job(ns, "first", 4.0);
    TrainingJob second = job(ns, "second", 4.0);
    TrainingJob third = job(ns, "third", 4.0);

    operator.reconcile(first);
    operator.reconcile(second);
    operator.reconcile(third);
    operator.reconcile(third);

    assertThat(first.getStatus().phase).isEqualTo(Phase.Provisioning);
    assertThat(second.getStatus().phase).isEqualTo(Phase.Provisioning);
    assertThat(first.getStatus().budget.reservedUSD).isEqualTo(4.0);
    assertThat(first.getStatus().budget.budgets).containsExactly("team");
    assertThat(operator.events.reasons(first.ref())).contains(Reason.BudgetAdmitted);

    assertThat(third.getStatus().phase).isEqualTo(Phase.Pending);
    var exhausted = Conditions.find(third.getStatus(), ConditionType.BUDGET_EXHAUSTED);
    assertThat(exhausted.status).isEqualTo("True");
    assertThat(exhausted.message).contains("TrainingBudget team").contains("worst case $4.00 (spec.limits.maxCostUSD)")
        .contains("$2.00 that remains").contains("limit $10.00, spent $0.00, reserved $8.00");
    assertThat(third.getStatus().message).isEqualTo(exhausted.message);
    assertThat(operator.events.reasons(third.ref())).containsOnlyOnce(Reason.BudgetExhausted);
    assertThat(third.getStatus().budget).isNull();
    assertThat(provider.calls(third.ref())).as("nothing is asked of the provider for a job that waits").isEmpty();
    assertThat(operator.reconcile(third).getScheduleDelay()).as("looked at again").isPresent();

    TrainingBudget team = budget(ns, "team");
    assertFigures(team, 0, 8, 2);
    assertThat(team.getStatus().reservations).extracting(r -> r.job).containsExactlyInAnyOrder("first", "second");
    assertThat(team.getStatus().shown.remaining).isEqualTo("$2.00");
    assertThat(gauge("trainingjob.budget.reserved.usd", ns, "team")).isEqualTo(8.0);
    assertThat(gauge("trainingjob.budget.limit.usd", ns, "team")).isEqualTo(10.0);

    // the first runs 1000 s at $3.60/h: $1.00 replaces its $4.00 reservation
    runToTheEnd(operator, first, 1000);
    assertThat(first.getStatus().cost.totalUSD).isEqualTo(1.0);
    assertFigures(budget(ns, "team"), 1, 4, 5);
    assertThat(gauge("trainingjob.budget.spent.usd", ns, "team")).isEqualTo(1.0);

    operator.reconcile(third);
    assertThat(third.getStatus().phase).isEqualTo(Phase.Provisioning);
    assertThat(Conditions.find(third.getStatus(), ConditionType.BUDGET_EXHAUSTED).status).isEqualTo("False");
    assertThat(provider.count(third.ref(), "ensure")).isPositive();
    assertFigures(budget(ns, "team"), 1, 8, 1);
    assertThat(budget(ns, "team").getStatus().shown.spent).isEqualTo("$1.00");
  }

  @Test
  void anUnboundedJobFailsUnderABudgetAndRunsAsBeforeWhereThereIsNone() throws Exception {
    budget("bounded", "team", 100, null);
    SyncOperator operator = operator();

    TrainingJob unbounded = job("bounded", "unbounded", null);
    operator.reconcile(unbounded);
    assertThat(unbounded.getStatus().phase).isEqualTo(Phase.Failed);
    var failed = Conditions.find(unbounded.getStatus(), ConditionType.FAILED);
    assertThat(failed.reason).isEqualTo(Reason.InvalidSpec.name());
    assertThat(failed.message).contains("spec.limits.maxCostUSD").contains("spec.limits.maxRuntimeSeconds")
        .contains("an unbounded job cannot run under a budget").contains("TrainingBudget team");
    assertThat(provider.count(unbounded.ref(), "ensure")).isZero();
    assertThat(budget("bounded", "team").getStatus()).as("nothing was written to the budget").isNull();

    // bounded by its run time: the machine's price for maxRuntimeSeconds is its worst case
    TrainingJob timed = job("bounded", "timed", null);
    timed.getSpec().limits = new LimitsSpec();
    timed.getSpec().limits.maxRuntimeSeconds = 7200L;
    operator.reconcile(timed);
    assertThat(timed.getStatus().phase).isEqualTo(Phase.Provisioning);
    assertThat(timed.getStatus().budget.reservedUSD).isEqualTo(7.2);

    TrainingJob elsewhere = job("no-budgets", "unbounded", null);
    operator.reconcile(elsewhere);
    assertThat(elsewhere.getStatus().phase).isEqualTo(Phase.Provisioning);
    assertThat(elsewhere.getStatus().budget).isNull();
  }

  @Test
  void everyBudgetMustHaveRoomAndRaisingALimitAdmitsTheJobThatWaits() throws Exception {
    String ns = "two-budgets";
    budget(ns, "team", 10, null);
    budget(ns, "project", 5, TrainingBudgetSpec.Period.Total);
    SyncOperator operator = operator();
    TrainingJob first = job(ns, "first", 4.0);
    TrainingJob second = job(ns, "second", 4.0);

    operator.reconcile(first);
    assertThat(first.getStatus().budget.budgets).containsExactly("project", "team");
    operator.reconcile(second);
    assertThat(second.getStatus().phase).isEqualTo(Phase.Pending);
    assertThat(Conditions.find(second.getStatus(), ConditionType.BUDGET_EXHAUSTED).message).contains("TrainingBudget project")
        .contains("$1.00 that remains");
    // team had room, but holds nothing for a job that waits
    assertFigures(budget(ns, "team"), 0, 4, 6);

    API.client().resources(TrainingBudget.class).inNamespace(ns).withName("project").edit(b -> {
      b.getSpec().limitUSD = 8.0;
      return b;
    });
    operator.reconcile(second);
    assertThat(second.getStatus().phase).isEqualTo(Phase.Provisioning);
    assertThat(operator.events.reasons(second.ref())).containsSubsequence(Reason.BudgetExhausted, Reason.BudgetAdmitted);
    assertFigures(budget(ns, "project"), 0, 8, 0);
    assertFigures(budget(ns, "team"), 0, 8, 2);
  }

  @Test
  void aNewMonthStartsAMonthlyBudgetAfreshButNotATotalOne() throws Exception {
    String ns = "new-month";
    for (var period : List.of(TrainingBudgetSpec.Period.Monthly, TrainingBudgetSpec.Period.Total)) {
      TrainingBudget b = budget(ns, period.name().toLowerCase(), 10, period);
      b.setStatus(new TrainingBudgetStatus());
      b.getStatus().spentUSD = 9.0;
      b.getStatus().periodStart = "2025-12-01T00:00:00Z"; // December; the test clock is on 1 January 2026
      API.client().resource(b).updateStatus();
    }
    SyncOperator operator = operator();
    TrainingJob job = job(ns, "january", 4.0);

    operator.reconcile(job);
    assertThat(Conditions.find(job.getStatus(), ConditionType.BUDGET_EXHAUSTED).message).contains("TrainingBudget total");
    TrainingBudget monthly = budget(ns, "monthly");
    assertThat(monthly.getStatus().reservations).isEmpty();

    API.client().resources(TrainingBudget.class).inNamespace(ns).withName("total").delete();
    operator.reconcile(job);
    assertThat(job.getStatus().phase).isEqualTo(Phase.Provisioning);
    monthly = budget(ns, "monthly");
    assertThat(monthly.getStatus().periodStart).isEqualTo("2026-01-01T00:00:00Z");
    assertFigures(monthly, 0, 4, 6);
  }

  @Test
  void aJobWaitsForTheBudgetWithoutADeadlineAndHasItsWholePendingDeadlineOnceAdmitted() throws Exception {
    String ns = "deadline";
    budget(ns, "team", 3, null);
    SyncOperator operator = operator();
    TrainingJob job = job(ns, "too-dear", 4.0);
    job.getSpec().limits.maxPendingSeconds = 600L;

    var waiting = operator.reconcile(job);
    assertThat(job.getStatus().phase).isEqualTo(Phase.Pending);
    assertThat(waiting.getScheduleDelay().orElseThrow()).isLessThanOrEqualTo(operator.config.pollInterval().toMillis());
    operator.clock.advance(Duration.ofSeconds(6 * 3600));
    operator.reconcile(job);
    assertThat(job.getStatus().phase).as("the queue holds nothing and costs nothing: no deadline").isEqualTo(Phase.Pending);
    assertThat(Conditions.find(job.getStatus(), ConditionType.FAILED)).isNull();
    assertThat(provider.calls(job.ref())).isEmpty();
    var held = budget(ns, "team").getStatus();
    assertThat(held == null || held.reservations.isEmpty()).as("a waiting job holds nothing").isTrue();

    var team = budget(ns, "team");
    team.getSpec().limitUSD = 4.0;
    API.client().resources(dev.trainingjob.operator.api.TrainingBudget.class).inNamespace(ns).resource(team).update();
    operator.reconcile(job); // admitted: the pending deadline counts from now
    assertThat(job.getStatus().timings.admitted).isEqualTo(operator.clock.instant().toString());
    provider.looksBeforeRunning = 1_000; // a machine that never comes up
    operator.clock.advance(Duration.ofSeconds(599));
    operator.reconcile(job);
    assertThat(Conditions.find(job.getStatus(), ConditionType.FAILED)).isNull();
    operator.clock.advance(Duration.ofSeconds(2));
    operator.reconcile(job);
    assertThat(Conditions.find(job.getStatus(), ConditionType.FAILED).reason).isEqualTo(Reason.PendingTimeout.name());
  }

  /** An API server without the schema lets anything in: such a budget admits nothing, and says why, and breaks nothing else. */
  @Test
  void aBudgetWhoseSpecCannotBeReadAdmitsNothingAndSaysWhy() throws Exception {
    String ns = "unreadable";
    API.client().genericKubernetesResources("trainingjob.dev/v1alpha1", "TrainingBudget").inNamespace(ns)
        .resource(new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder().withApiVersion("trainingjob.dev/v1alpha1")
            .withKind("TrainingBudget").withNewMetadata().withName("weekly").withNamespace(ns).endMetadata()
            .addToAdditionalProperties("spec", java.util.Map.of("limitUSD", 10, "period", "Weekly")).build())
        .create();
    SyncOperator operator = operator();
    TrainingJob job = job(ns, "waits", 1.0);

    operator.reconcile(job);
    assertThat(job.getStatus().phase).isEqualTo(Phase.Pending);
    assertThat(Conditions.find(job.getStatus(), ConditionType.BUDGET_EXHAUSTED).message)
        .contains("TrainingBudget weekly, whose spec cannot be read (spec.period: cannot be read");
    assertThat(provider.calls(job.ref())).isEmpty();
  }

  @Test
  void settlingTwiceCountsTheCostOnce() throws Exception {
    String ns = "settle-twice";
    budget(ns, "team", 10, null);
    SyncOperator operator = operator();
    TrainingJob job = job(ns, "once", 4.0);
    operator.reconcile(job);
    runToTheEnd(operator, job, 2000);
    assertFigures(budget(ns, "team"), 2, 0, 8);

    // the job's status write was lost after the budget was written: the next look settles again, and counts nothing
    job.getStatus().budget.settled = false;
    operator.reconcile(job);
    assertThat(settled(job)).isTrue();
    assertThat(operator.budgets.settle(job, 2.0)).isEmpty();
    operator.delete(job);
    assertFigures(budget(ns, "team"), 2, 0, 8);
  }

  @Test
  void deletingARunningJobSettlesWhatItCostSoFar() throws Exception {
    String ns = "delete-running";
    budget(ns, "team", 10, null);
    SyncOperator operator = operator();
    TrainingJob job = job(ns, "deleted", 4.0);
    operator.reconcileUntil(job, Phase.Running);
    operator.clock.advance(Duration.ofSeconds(1800));
    assertFigures(budget(ns, "team"), 0, 4, 6);

    for (int i = 0; i < 5 && operator.delete(job).isRemoveFinalizer() == false; i++) {
      // the machine's release takes a second call
    }
    assertThat(provider.count(job.ref(), "release")).isPositive();
    assertFigures(budget(ns, "team"), 1.8, 0, 8.2);
  }

  /** Jobs admitted at once, by two ledgers that share no lock (as two operators would): the API's resourceVersion decides. */
  @Test
  void jobsAdmittedInParallelNeverReserveMoreThanTheLimit() throws Exception {
    String ns = "parallel";
    budget(ns, "team", 10, null);
    List<SyncOperator> operators = List.of(operator(), operator());
    int n = 12;
    List<TrainingJob> jobs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      jobs.add(job(ns, "job-" + i, 1.5));
    }
    CountDownLatch go = new CountDownLatch(1);
    ExecutorService threads = Executors.newFixedThreadPool(n);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        TrainingJob job = jobs.get(i);
        SyncOperator operator = operators.get(i % 2);
        done.add(threads.submit(() -> {
          go.await();
          return operator.reconcile(job);
        }));
      }
      go.countDown();
      for (Future<?> f : done) {
        f.get(30, TimeUnit.SECONDS);
      }
    } finally {
      threads.shutdownNow();
    }
    List<String> admitted = jobs.stream().filter(j -> j.getStatus().phase != Phase.Pending).map(j -> j.getMetadata().getName()).toList();
    assertThat(admitted).hasSize(6); // 6 × $1.50 = $9.00; a seventh would pass $10.00
    TrainingBudget team = budget(ns, "team");
    assertFigures(team, 0, 9, 1);
    assertThat(team.getStatus().reservations).extracting(r -> r.job).containsExactlyInAnyOrderElementsOf(admitted);
  }

  /** The budget's own reconciler: a raised limit, a new month, a job deleted while no operator ran, a budget deleted. */
  @Test
  void theBudgetReconcilerKeepsTheFiguresCurrentAndDropsReservationsOfJobsThatAreGone() throws Exception {
    String ns = "tidy";
    TrainingJob alive = job(ns, "alive", 3.0);
    TrainingBudget b = budget(ns, "team", 10, null);
    b.setStatus(new TrainingBudgetStatus());
    b.getStatus().spentUSD = 5.0;
    b.getStatus().periodStart = "2025-12-01T00:00:00Z";
    b.getStatus().reservations.add(new dev.trainingjob.operator.api.BudgetReservation("alive", alive.getMetadata().getUid(), 3, "2025-12-30T00:00:00Z"));
    b.getStatus().reservations.add(new dev.trainingjob.operator.api.BudgetReservation("deleted", "gone-uid", 4, "2025-12-30T00:00:00Z"));
    API.client().resource(b).updateStatus();
    SyncOperator operator = operator();
    operator.clock.advance(Duration.ofDays(14));
    var reconciler = new TrainingBudgetReconciler(operator.budgets, operator.clock);

    var control = reconciler.reconcile(budget(ns, "team"), null);
    TrainingBudget team = budget(ns, "team");
    assertThat(team.getStatus().reservations).extracting(r -> r.job).containsExactly("alive");
    assertThat(team.getStatus().periodStart).isEqualTo("2026-01-01T00:00:00Z");
    assertFigures(team, 0, 3, 7);
    assertThat(team.getStatus().shown.limit).isEqualTo("$10.00");
    // looked at again when February starts
    assertThat(control.getScheduleDelay().orElseThrow()).isEqualTo(Duration.ofDays(17).plusSeconds(1).toMillis());

    API.client().resources(TrainingBudget.class).inNamespace(ns).withName("team").edit(x -> {
      x.getSpec().limitUSD = 20.0;
      return x;
    });
    reconciler.reconcile(budget(ns, "team"), null);
    assertFigures(budget(ns, "team"), 0, 3, 17);
    assertThat(budget(ns, "team").getStatus().shown.limit).isEqualTo("$20.00");
    assertThat(gauge("trainingjob.budget.limit.usd", ns, "team")).isEqualTo(20.0);

    TrainingBudget last = budget(ns, "team");
    API.client().resource(last).delete();
    reconciler.reconcile(last, null);
    assertThat(meters.find("trainingjob.budget.limit.usd").tag("namespace", ns).gauges()).as("the gauges go with the budget").isEmpty();
  }

  /** A job removed without settling (its finalizer removed by hand) held room: a waiting job does not wait for it. */
  @Test
  void aReservationOfAJobThatIsGoneDoesNotKeepAnotherWaiting() throws Exception {
    String ns = "gone";
    TrainingBudget b = budget(ns, "team", 5, null);
    b.setStatus(new TrainingBudgetStatus());
    b.getStatus().reservations.add(new dev.trainingjob.operator.api.BudgetReservation("removed-by-hand", "gone-uid", 4,
        "2025-12-30T00:00:00Z"));
    API.client().resource(b).updateStatus();
    SyncOperator operator = operator();
    TrainingJob job = job(ns, "next", 4.0);

    operator.reconcile(job);

    assertThat(job.getStatus().phase).isNotEqualTo(Phase.Pending);
    assertThat(budget(ns, "team").getStatus().reservations).extracting(r -> r.job).containsExactly("next");
  }

  /**
   * A changed spec mid-run is a new run on the same machine: the first run's cost is settled as it ends, and the new run
   * reserves its own worst case; at the end both costs are spent and nothing is reserved.
   */
  @Test
  void aNewRunOnTheSameMachineIsSettledAndAdmittedAgain() throws Exception {
    String ns = "runs";
    budget(ns, "team", 10, TrainingBudgetSpec.Period.Total);
    SyncOperator operator = operator();
    remote.stopEndsScript = true;
    remote.runningProbes = 1000;
    TrainingJob job = job(ns, "edited", 4.0);
    operator.reconcileUntil(job, Phase.Running);
    operator.clock.advance(Duration.ofSeconds(1000)); // $1.00
    operator.reconcile(job);

    job.getSpec().script.args = List.of("--lr", "0.1");
    job.getSpec().limits.maxCostUSD = 3.0;
    job.getMetadata().setGeneration(2L);
    operator.reconcileUntil(job, Phase.Bootstrapping);
    assertThat(job.getStatus().budget).as("admitted on the next look, once the run before is written settled").isNull();
    operator.reconcile(job);
    assertThat(job.getStatus().runs).singleElement().satisfies(r -> assertThat(r.costUSD).isEqualTo(1.0));
    assertThat(job.getStatus().budget.reservedUSD).as("the new run's own worst case").isEqualTo(3.0);
    assertFigures(budget(ns, "team"), 1.0, 3.0, 6.0);

    operator.reconcileUntil(job, Phase.Running);
    operator.clock.advance(Duration.ofSeconds(500)); // $0.50
    remote.runningProbes = 1;
    operator.reconcileUntil(job, Phase.Succeeded);
    for (int i = 0; i < 10 && !settled(job); i++) {
      operator.reconcile(job);
    }
    assertThat(provider.launches(job)).isEqualTo(1);
    assertFigures(budget(ns, "team"), 1.5, 0.0, 8.5);
  }
}
