package dev.trainingjob.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.metrics.OperatorMetrics;
import dev.trainingjob.operator.remote.ProbeResult;
import dev.trainingjob.operator.support.RecordingProvider;
import dev.trainingjob.operator.support.ScriptedRemoteHosts;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A running job's probe runs beside its reconcile: a machine that is slow to answer holds up no reconcile thread, one
 * probe at a time runs per job, the job is woken when its result lands, and what the probe saw (or why it could not look)
 * is decided on as a probe made in the reconcile was.
 */
class ProbesBesideReconcilesTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private final OperatorConfig config = OperatorConfig.defaults();
  private final RecordingProvider provider = new RecordingProvider("local");
  private final ScriptedRemoteHosts remote = new ScriptedRemoteHosts();
  private final ProbeRunner probes = ProbeRunner.pooled(2);
  private final List<ResourceID> woken = new CopyOnWriteArrayList<>();
  private final SyncOperator operator =
      new SyncOperator(config, "local", List.of(provider), remote, null, OperatorMetrics.discarding(), probes);

  ProbesBesideReconcilesTest() {
    probes.onResult(woken::add);
  }

  @AfterEach
  void stop() {
    probes.close();
  }

  private long probesOf(TrainingJob job) {
    return remote.count(job.ref(), "probe");
  }

  @Test
  void aSlowMachineHoldsNoReconcileAndTheJobIsWokenWhenItsProbeLands() throws Exception {
    remote.runningProbes = 1; // the script ends after the probe that saw it run: the first probe beside the reconciles sees its exit
    remote.probeGate = new CountDownLatch(1);
    TrainingJob job = SyncOperator.job("slow");

    var control = operator.reconcileUntil(job, Phase.Running); // its last reconcile asked for a probe, which hangs
    assertThat(job.getStatus().phase).isEqualTo(Phase.Running);
    assertThat(control.getScheduleDelay()).as("looked at again by itself too, should the wake be lost")
        .contains(config.probeInterval().toMillis());
    await().atMost(WAIT).until(() -> remote.atTheGate.get() == 1);
    long asked = probesOf(job);

    operator.reconcile(job); // looked at again meanwhile: one probe in flight per job is enough
    assertThat(probesOf(job)).isEqualTo(asked);
    assertThat(job.getStatus().phase).isEqualTo(Phase.Running);
    assertThat(woken).isEmpty();

    remote.probeGate.countDown();
    await().atMost(WAIT).until(() -> woken.contains(ResourceID.fromResource(job)));
    operator.reconcile(job);
    assertThat(probesOf(job)).as("the woken reconcile takes the result, asking for no other").isEqualTo(asked);
    assertThat(job.getStatus().phase).as("the exit the slow probe saw is decided on").isIn(Phase.Finishing, Phase.Succeeded);
  }

  @Test
  void aProbeThatFailsBesideTheReconcileMeetsTheSameHandling() throws Exception {
    remote.runningProbes = 100;
    remote.probeGate = new CountDownLatch(1);
    TrainingJob job = SyncOperator.job("vanished");
    operator.reconcileUntil(job, Phase.Running);

    remote.probeFails = new IllegalStateException("connection refused");
    provider.machinesGone = true;
    remote.probeGate.countDown();
    await().atMost(WAIT).until(() -> woken.contains(ResourceID.fromResource(job)));
    operator.reconcile(job);

    assertThat(job.getStatus().phase).isEqualTo(Phase.Failed);
    assertThat(job.getStatus().conditions.stream().map(c -> c.reason)).contains(Reason.InstanceLost.name());
  }

  @Test
  void aResultIsTakenOnceAndOnlyByTheStintItWasAskedFor() throws Exception {
    try (var runner = ProbeRunner.inline()) {
      List<ResourceID> wakes = new CopyOnWriteArrayList<>();
      runner.onResult(wakes::add);
      ResourceID id = new ResourceID("a", "default");
      var seen = new ProbeResult(ProbeResult.State.RUNNING, null, true, null, null, List.of(), null, null, List.of(), 1.0, 1);

      runner.request(id, "uid", "1/1/1", () -> new ProbeRunner.Probed(seen, 22, null));
      assertThat(runner.take("uid", "1/2/1")).as("the next attempt never takes the last one's result").isEmpty();
      assertThat(runner.take("uid", "1/1/1")).isPresent();
      assertThat(runner.take("uid", "1/1/1")).as("taken once").isEmpty();
      assertThat(wakes).containsExactly(id);

      runner.forget("uid");
      assertThat(runner.take("uid", "1/1/1")).isEmpty();
    }
  }

  @Test
  void aProbeThatLandsAfterTheJobWasForgottenWakesNothing() throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    List<ResourceID> wakes = new CopyOnWriteArrayList<>();
    probes.onResult(wakes::add);
    ResourceID id = new ResourceID("b", "default");
    CountDownLatch landed = new CountDownLatch(1);
    probes.request(id, "uid-b", "1/1/1", () -> {
      try {
        gate.await();
        return new ProbeRunner.Probed(null, null, null);
      } finally {
        landed.countDown();
      }
    });
    probes.forget("uid-b"); // released or deleted while its probe ran
    gate.countDown();
    landed.await();
    await().atMost(WAIT).untilAsserted(() -> assertThat(probes.take("uid-b", "1/1/1")).isEmpty());
    assertThat(wakes).isEmpty();
  }

  private static ProbeResult seen(ProbeResult.State state, Integer exitCode) {
    return new ProbeResult(state, exitCode, exitCode == null, null, null, List.of(), null, null, List.of(), 1.0, 1);
  }

  @Test
  void aWaitOnTheMachineLandsWhatTheJobMovedOnToAndFollowsItButAWaitThatSawNothingNewLandsNothing() throws Exception {
    try (var runner = ProbeRunner.inline()) {
      List<ResourceID> wakes = new CopyOnWriteArrayList<>();
      runner.onResult(wakes::add);
      ResourceID id = new ResourceID("c", "default");
      List<CompletableFuture<ProbeResult>> started = new CopyOnWriteArrayList<>();
      java.util.function.Function<ProbeResult.State, ProbeRunner.Watch>[] watchFrom = new java.util.function.Function[1];
      watchFrom[0] = from -> new ProbeRunner.Watch(from, () -> {
        var f = new CompletableFuture<ProbeResult>();
        started.add(f);
        return f;
      }, next -> next.exited() ? null : watchFrom[0].apply(next.state()));

      runner.watch(id, "uid-c", "1/1/1", watchFrom[0].apply(ProbeResult.State.BOOTSTRAPPING));
      runner.watch(id, "uid-c", "1/1/1", watchFrom[0].apply(ProbeResult.State.BOOTSTRAPPING));
      assertThat(started).as("one wait per job").hasSize(1);
      assertThat(runner.watching()).isEqualTo(1);

      started.get(0).complete(seen(ProbeResult.State.BOOTSTRAPPING, null)); // its bound passed: nothing new
      assertThat(runner.take("uid-c", "1/1/1")).isEmpty();
      assertThat(wakes).isEmpty();
      assertThat(runner.watching()).as("started again by a later probe, not at once").isZero();

      runner.watch(id, "uid-c", "1/1/1", watchFrom[0].apply(ProbeResult.State.BOOTSTRAPPING));
      started.get(1).complete(seen(ProbeResult.State.RUNNING, null)); // Python is ready: the script runs
      assertThat(runner.take("uid-c", "1/1/1").orElseThrow().probed().result().state()).isEqualTo(ProbeResult.State.RUNNING);
      assertThat(wakes).containsExactly(id);
      assertThat(started).as("and the job is followed on: a wait for its exit").hasSize(3);

      started.get(2).complete(seen(ProbeResult.State.EXITED, 0));
      assertThat(runner.take("uid-c", "1/1/1").orElseThrow().probed().result().exited()).isTrue();
      assertThat(wakes).hasSize(2);
      assertThat(runner.watching()).as("nothing to wait for after the exit").isZero();
    }
  }

  @Test
  void aJobsWaitEndsWhenItIsForgottenOrMovesOnToAnotherAttempt() throws Exception {
    try (var runner = ProbeRunner.inline()) {
      ResourceID id = new ResourceID("d", "default");
      List<CompletableFuture<ProbeResult>> started = new CopyOnWriteArrayList<>();
      java.util.function.Supplier<ProbeRunner.Watch> watch = () -> new ProbeRunner.Watch(ProbeResult.State.RUNNING, () -> {
        var f = new CompletableFuture<ProbeResult>();
        started.add(f);
        return f;
      }, next -> null);

      runner.watch(id, "uid-d", "1/1/1", watch.get());
      runner.watch(id, "uid-d", "1/2/1", watch.get()); // the next attempt
      assertThat(started.get(0)).as("the last attempt's wait ended").isCancelled();
      assertThat(started.get(1)).isNotDone();

      runner.forget("uid-d");
      assertThat(started.get(1)).isCancelled();
      assertThat(runner.watching()).isZero();
    }
  }
}
