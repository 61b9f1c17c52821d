package dev.trainingjob.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.api.ComputeSpec;
import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.LimitsSpec;
import dev.trainingjob.operator.api.OutputSpec;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.RetrySpec;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.remote.ProbeResult;
import dev.trainingjob.operator.status.Conditions;
import dev.trainingjob.operator.support.RecordingProvider;
import dev.trainingjob.operator.support.ScriptedRemoteHosts;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The guards of spec.limits decided synchronously with a test clock: the dollar cap stops the job before one more probe
 * interval and the stop's grace would pass it, a low disk, idle GPUs and a stalled script each stop it, and each stop goes
 * through the one stop path (the notice, collect, release) with a condition and an Event.
 */
class GuardDecisionsTest {
  private final RecordingProvider provider = new RecordingProvider("local");
  private final ScriptedRemoteHosts remote = new ScriptedRemoteHosts();
  private final SyncOperator operator = new SyncOperator(OperatorConfig.defaults(), "local", List.of(provider), remote);

  GuardDecisionsTest() {
    provider.clock = operator.clock;
    provider.looksBeforeRunning = 1;
  }

  /** A job on a local machine at a price per hour, with the limits the test sets. */
  private static TrainingJob priced(String name, double hourly) {
    TrainingJob job = SyncOperator.job(name);
    job.getSpec().compute = new ComputeSpec();
    job.getSpec().compute.local = new ComputeSpec.LocalSpec();
    job.getSpec().compute.local.hourlyPriceUSD = hourly;
    job.getSpec().limits = new LimitsSpec();
    job.getSpec().output = new OutputSpec();
    job.getSpec().output.paths = List.of("model.pt");
    return job;
  }

  /** Reconciles every {@code step} of the test clock until a stop is decided; the number of reconciles it took. */
  private int runUntilStopDecided(TrainingJob job, Duration step) throws Exception {
    for (int i = 1; i <= 200; i++) {
      operator.clock.advance(step);
      operator.reconcile(job);
      if (job.getStatus().ending != null || job.getStatus().phase.isFinal()) {
        return i;
      }
    }
    throw new AssertionError("no stop was decided; the job is " + job.getStatus().phase);
  }

  private void assertStoppedThroughTheStopPath(TrainingJob job, Reason reason) throws Exception {
    operator.reconcileUntil(job, Phase.Failed);
    operator.reconcileUntil(job, Phase.Failed);
    for (int i = 0; i < 5; i++) {
      operator.reconcile(job); // release
    }
    assertThat(Conditions.find(job.getStatus(), ConditionType.FAILED).reason).isEqualTo(reason.name());
    assertThat(Conditions.find(job.getStatus(), ConditionType.GUARD_TRIPPED).reason).isEqualTo(reason.name());
    assertThat(remote.count(job.ref(), "stop")).as("the script got the stop notice").isPositive();
    assertThat(remote.count(job.ref(), "collect")).as("its outputs were collected").isPositive();
    assertThat(provider.count(job.ref(), "release")).as("the machine was released").isPositive();
    assertThat(operator.events.all()).filteredOn(e -> e.reason() == reason && e.type().equals("Warning"))
        .as("a Warning Event when the guard tripped").isNotEmpty();
  }

  @Test
  void theDollarCapStopsTheJobBeforeOneMoreProbeIntervalAndTheGracePassIt() throws Exception {
    remote.runningProbes = 20; // an epoch every probe: 100 s of work, and an ETA from the first epoch on
    TrainingJob job = priced("capped", 3600); // a dollar a second
    job.getSpec().limits.maxCostUSD = 60.0;
    operator.reconcileUntil(job, Phase.Running);

    runUntilStopDecided(job, operator.config.probeInterval());

    var cost = job.getStatus().cost;
    double ahead = operator.config.probeInterval().plus(operator.config.remote().stopGrace()).toSeconds();
    assertThat(job.getStatus().ending.reason).isEqualTo("BudgetExceeded");
    assertThat(cost.totalUSD + ahead).as("decided once the next probe and the grace would pass the cap").isGreaterThan(60.0);
    assertThat(cost.totalUSD + ahead - operator.config.probeInterval().toSeconds()).as("and not a probe earlier").isLessThanOrEqualTo(60.0);
    assertThat(cost.priceSource).isEqualTo("spec");
    assertThat(job.getStatus().message).contains("spec.limits.maxCostUSD").contains("$60.00");
    // the projection passed the cap long before: a warning said so, once, with both numbers
    var projected = operator.events.all().stream().filter(e -> e.reason() == Reason.OverBudgetProjected).toList();
    assertThat(projected).hasSize(1);
    assertThat(projected.get(0).message()).contains("$60.00").containsPattern("projected total \\$[0-9]+");
    assertThat(Conditions.isTrue(job.getStatus(), ConditionType.OVER_BUDGET_PROJECTED)).isTrue();

    assertStoppedThroughTheStopPath(job, Reason.BudgetExceeded);
    assertThat(job.getStatus().cost.totalUSD).as("the machine stopped costing at release")
        .isLessThanOrEqualTo(60.0 + operator.config.probeInterval().toSeconds());
  }

  @Test
  void aMachinePastTheCapBeforeTheScriptRunsIsReleasedWithoutStartingIt() throws Exception {
    TrainingJob job = priced("too-dear", 36_000); // ten dollars a second
    job.getSpec().limits.maxCostUSD = 1.0;
    operator.reconcileUntil(job, Phase.Failed);
    assertThat(Conditions.find(job.getStatus(), ConditionType.FAILED).reason).isEqualTo("BudgetExceeded");
    assertThat(job.getStatus().message).contains("before the script ran");
    assertThat(remote.count(job.ref(), "startOnce")).isZero();
  }

  @Test
  void lessFreeDiskThanTheLimitStopsTheJobAsDiskFull() throws Exception {
    remote.runningProbes = 100_000;
    long gib = 1024L * 1024 * 1024;
    remote.disk = new ProbeResult.Disk(10 * gib, 20 * gib);
    TrainingJob job = priced("disk", 1);
    job.getSpec().limits.minFreeDiskGiB = 5.0;
    operator.reconcileUntil(job, Phase.Running);
    operator.reconcile(job);
    assertThat(job.getStatus().ending).as("10 GiB free is enough").isNull();

    remote.disk = new ProbeResult.Disk(16 * gib, 20 * gib);
    runUntilStopDecided(job, Duration.ofSeconds(5));
    assertThat(job.getStatus().ending.reason).isEqualTo("DiskFull");
    assertThat(job.getStatus().ending.message).contains("4.00 GiB free").contains("spec.limits.minFreeDiskGiB");
    assertStoppedThroughTheStopPath(job, Reason.DiskFull);
  }

  @Test
  void gpusIdleForTheWholeWindowStopTheJobAndABusyProbeStartsTheWindowAgain() throws Exception {
    remote.runningProbes = 100_000;
    var idle = List.of(new ProbeResult.Gpu("A10G", 2.0, 100L, 23000L), new ProbeResult.Gpu("A10G", 0.0, 100L, 23000L));
    var busy = List.of(new ProbeResult.Gpu("A10G", 2.0, 100L, 23000L), new ProbeResult.Gpu("A10G", 95.0, 9000L, 23000L));
    TrainingJob job = priced("idle", 1);
    job.getSpec().limits.idleGpu = new LimitsSpec.IdleGpuSpec();
    job.getSpec().limits.idleGpu.belowPercent = 10.0;
    job.getSpec().limits.idleGpu.forSeconds = 60L;
    remote.gpus = idle;
    operator.reconcileUntil(job, Phase.Running);
    operator.reconcile(job);
    operator.clock.advance(Duration.ofSeconds(50));
    remote.gpus = busy; // one GPU works: the window starts again
    operator.reconcile(job);
    assertThat(job.getStatus().timings.gpuIdleSince).isNull();
    remote.gpus = idle;
    operator.reconcile(job);
    operator.clock.advance(Duration.ofSeconds(50));
    operator.reconcile(job);
    assertThat(job.getStatus().ending).as("idle 50 s of 60").isNull();

    runUntilStopDecided(job, Duration.ofSeconds(5));
    assertThat(job.getStatus().ending.reason).isEqualTo("IdleGpu");
    assertThat(job.getStatus().ending.message).contains("every GPU (2)").contains("below 10%");
    assertStoppedThroughTheStopPath(job, Reason.IdleGpu);
  }

  @Test
  void aStalledScriptIsStoppedAndRunAgainWhileSpecRetryAllows() throws Exception {
    remote.runningProbes = 100_000;
    remote.stopEndsScript = true;
    TrainingJob job = priced("stall", 1);
    job.getSpec().limits.stallSeconds = 60L;
    job.getSpec().retry = new RetrySpec();
    job.getSpec().retry.maxRetries = 1;
    job.getSpec().retry.backoffSeconds = 0L;
    job.getSpec().retry.onExitCodes = List.of(7); // a stall is retried whatever the code
    operator.reconcileUntil(job, Phase.Running);
    for (int i = 0; i < 10; i++) {
      operator.clock.advance(Duration.ofSeconds(30));
      operator.reconcile(job); // a new epoch every probe: never stalled
    }
    assertThat(job.getStatus().ending).isNull();

    remote.unchanging = true;
    runUntilStopDecided(job, Duration.ofSeconds(10));
    assertThat(job.getStatus().ending.reason).isEqualTo("Stalled");
    operator.reconcileUntil(job, Phase.Bootstrapping);
    assertThat(job.getStatus().attempt).isEqualTo(2);
    assertThat(job.getStatus().attempts).extracting(a -> a.reason).containsExactly("Stalled");
    assertThat(job.getStatus().retries).isEqualTo(1);

    operator.reconcileUntil(job, Phase.Running);
    runUntilStopDecided(job, Duration.ofSeconds(10));
    assertThat(job.getStatus().ending.reason).isEqualTo("Stalled");
    assertStoppedThroughTheStopPath(job, Reason.Stalled);
    assertThat(job.getStatus().attempts).extracting(a -> a.reason).containsExactly("Stalled", "Stalled");
  }

  @Test
  void aCapOnAMachineWithoutAPriceIsAnInvalidSpecBeforeAnythingIsLaunched() throws Exception {
    RecordingProvider ec2 = new RecordingProvider("ec2");
    SyncOperator withEc2 = new SyncOperator(OperatorConfig.defaults(), "ec2", List.of(ec2), remote);
    TrainingJob job = SyncOperator.job("unpriced");
    job.getSpec().compute = new ComputeSpec();
    job.getSpec().compute.ec2 = new ComputeSpec.Ec2Spec();
    job.getSpec().compute.ec2.instanceType = "x9.unpriced";
    job.getSpec().limits = new LimitsSpec();
    job.getSpec().limits.maxCostUSD = 10.0;
    withEc2.reconcileUntil(job, Phase.Failed);
    assertThat(Conditions.find(job.getStatus(), ConditionType.FAILED).reason).isEqualTo("InvalidSpec");
    assertThat(job.getStatus().message).contains("spec.limits.maxCostUSD").contains("--price-list");
    assertThat(ec2.count(job.ref(), "ensure")).isZero();
  }

  @Test
  void pastTheCapAMachineThatDoesNotAnswerIsReleasedWithoutWaitingForIt() throws Exception {
    remote.runningProbes = 100_000;
    TrainingJob job = priced("silent", 3600);
    job.getSpec().limits.maxCostUSD = 100.0;
    operator.reconcileUntil(job, Phase.Running);
    remote.probeFails = new IllegalStateException("connection reset");
    operator.clock.advance(Duration.ofSeconds(60));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> operator.reconcile(job)).as("still within the cap: retried")
        .hasMessageContaining("connection reset");
    operator.clock.advance(Duration.ofSeconds(40));
    operator.reconcile(job);
    assertThat(Conditions.find(job.getStatus(), ConditionType.FAILED).reason).isEqualTo("BudgetExceeded");
    assertThat(job.getStatus().message).contains("did not answer");
    for (int i = 0; i < 5; i++) {
      operator.reconcile(job);
    }
    assertThat(provider.count(job.ref(), "release")).isPositive();
    assertThat(DebugHold.until(new JobContext(job, null))).as("no hold keeps paying past the cap").isEmpty();
  }

  @Test
  void aMachineThatStaysIsPaidForFromWhenTheJobGotItNotFromTheJobsCreation() throws Exception {
    remote.runningProbes = 100_000;
    TrainingJob job = priced("queued", 3600);
    operator.clock.advance(Duration.ofMinutes(30)); // created half an hour before the operator first saw it
    operator.reconcileUntil(job, Phase.Running);
    operator.clock.advance(Duration.ofSeconds(20)); // past the write interval: the cost so far is written
    operator.reconcile(job);
    assertThat(job.getStatus().cost.totalUSD).isEqualTo(20.0);
  }
}
