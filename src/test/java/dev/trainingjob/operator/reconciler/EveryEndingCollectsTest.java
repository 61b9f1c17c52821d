package dev.trainingjob.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.LimitsSpec;
import dev.trainingjob.operator.api.OutputSpec;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.remote.ProbeResult;
import dev.trainingjob.operator.status.Conditions;
import dev.trainingjob.operator.support.RecordingProvider;
import dev.trainingjob.operator.support.ScriptedRemoteHosts;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every way a job ends keeps its outputs: each ending collects what is on the machine before release, within the collect
 * deadline, and status.outputs says what was saved and what was not. Then the debug hold: a failed job's machine is kept
 * as long as the spec asks, and released on time or when a person says so. Decisions called synchronously, with a clock
 * that moves only when the test says so.
 */
class EveryEndingCollectsTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private final OperatorConfig config = OperatorConfig.defaults();
  private final RecordingProvider provider = new RecordingProvider("local");
  private final ScriptedRemoteHosts remote = new ScriptedRemoteHosts();
  private final SyncOperator operator = new SyncOperator(config, "local", List.of(provider), remote);
  private final CountDownLatch hungDownload = new CountDownLatch(1);

  @AfterEach
  void freeTheCollector() {
    hungDownload.countDown();
  }

  private static TrainingJob job(String name, Long maxRuntimeSeconds, Long keepAfterFailureSeconds) {
    TrainingJob job = SyncOperator.job(name);
    job.getSpec().output = new OutputSpec();
    job.getSpec().output.paths = List.of("model.pt", "checkpoints/");
    job.getSpec().limits = new LimitsSpec();
    job.getSpec().limits.maxRuntimeSeconds = maxRuntimeSeconds;
    job.getSpec().limits.keepAfterFailureSeconds = keepAfterFailureSeconds;
    return job;
  }

  /** Reconciles, as JOSDK would on each requeue, until the job is in the phase (the download runs beside the reconcile). */
  private void reconcileUntil(TrainingJob job, Phase phase) {
    await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).until(() -> {
      operator.reconcile(job);
      return job.getStatus().phase == phase;
    });
  }

  private static boolean released(TrainingJob job) {
    return Conditions.isTrue(job.getStatus(), ConditionType.RELEASED);
  }

  private static String failedReason(TrainingJob job) {
    return Conditions.find(job.getStatus(), ConditionType.FAILED).reason;
  }

  @Test
  void aScriptStoppedAtItsMaxRuntimeHasItsOutputsCollectedBeforeTheJobFails() throws Exception {
    remote.runningProbes = 1000;
    TrainingJob job = job("too-long", 60L, null);
    operator.reconcileUntil(job, Phase.Running);

    operator.clock.advance(Duration.ofSeconds(61));
    var decided = operator.reconcile(job);
    // the reason is written before anything is stopped: an operator restarted from here ends the job the same way
    assertThat(decided.isPatchStatus()).isTrue();
    assertThat(job.getStatus().ending.reason).isEqualTo("MaxRuntimeExceeded");
    assertThat(job.getStatus().message).startsWith("Stopping the job: Timeout: the script ran longer");
    assertThat(remote.count("default/too-long", "stop")).isZero();
    assertThat(decided.getScheduleDelay()).hasValueSatisfying(ms -> assertThat(ms).isLessThan(1000));

    reconcileUntil(job, Phase.Failed);

    assertThat(failedReason(job)).isEqualTo(Reason.MaxRuntimeExceeded.name());
    assertThat(remote.methods("default/too-long")).containsSubsequence("stop", "keepUntil", "collect");
    assertThat(job.getStatus().outputs.collected).containsExactly("model.pt", "checkpoints/");
    assertThat(job.getStatus().outputs.directory).endsWith(job.getMetadata().getUid());
    assertThat(job.getStatus().message).startsWith("Timeout: the script ran longer than spec.limits.maxRuntimeSeconds")
        .contains("; outputs collected to " + job.getStatus().outputs.directory + " (2 of 2)");

    operator.reconcile(job);
    assertThat(released(job)).as("collected first, released after").isTrue();
  }

  /**
   * The reconcile that took the finished download ended the job and released its machine, but its status write was refused
   * (the job changed meanwhile): the next reconcile, from Finishing again, takes the same download's result rather than
   * collecting again from a machine that is gone.
   */
  @Test
  void aReconcileWhoseWriteWasRefusedAfterTheDownloadTakesTheSameDownload() throws Exception {
    TrainingJob job = job("refused", null, null);
    var json = new io.fabric8.kubernetes.client.utils.KubernetesSerialization();
    TrainingJob[] asWritten = new TrainingJob[1]; // what the API still holds: the job before the reconcile that ended it
    await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).until(() -> {
      asWritten[0] = json.clone(job);
      operator.reconcile(job);
      return job.getStatus().phase == Phase.Succeeded;
    });
    assertThat(asWritten[0].getStatus().phase).isIn(Phase.Running, Phase.Finishing);
    assertThat(remote.count("default/refused", "collect")).isEqualTo(1);

    reconcileUntil(asWritten[0], Phase.Succeeded); // the write was refused: reconciled again from what the API holds
    assertThat(remote.count("default/refused", "collect")).as("not collected a second time").isEqualTo(1);
    assertThat(asWritten[0].getStatus().outputs.collected).containsExactly("model.pt", "checkpoints/");
  }

  @Test
  void anOperatorRestartedAfterItDecidedToStopEndsTheJobTheSameWay() throws Exception {
    remote.runningProbes = 1000;
    TrainingJob job = job("restarted", 60L, null);
    operator.reconcileUntil(job, Phase.Running);
    operator.clock.advance(Duration.ofSeconds(61));
    operator.reconcile(job);

    // a new operator reads the status the first one wrote; the script then exits by itself (with 0) before the stop
    TrainingJob read = io.fabric8.kubernetes.client.utils.Serialization.unmarshal(
        io.fabric8.kubernetes.client.utils.Serialization.asJson(job), TrainingJob.class);
    SyncOperator next = new SyncOperator(config, "local", List.of(provider), remote);
    next.clock.advance(Duration.ofSeconds(62));
    remote.runningProbes = 0;
    await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).until(() -> {
      next.reconcile(read);
      return read.getStatus().phase == Phase.Failed;
    });

    assertThat(Conditions.find(read.getStatus(), ConditionType.FAILED).reason).isEqualTo("MaxRuntimeExceeded");
    assertThat(read.getStatus().failure.category).isEqualTo(dev.trainingjob.operator.api.FailureStatus.Category.Timeout);
  }

  @Test
  void aDriverThatDiedWithoutAnExitRecordHasWhatTheScriptLeftCollected() throws Exception {
    remote.sessionDies = true;
    TrainingJob job = job("lost", null, null);

    reconcileUntil(job, Phase.Failed);

    assertThat(failedReason(job)).isEqualTo(Reason.DriverLost.name());
    assertThat(remote.count("default/lost", "collect")).isEqualTo(1);
    assertThat(job.getStatus().outputs.collected).containsExactly("model.pt", "checkpoints/");
    assertThat(job.getStatus().message).contains("ended without recording an exit code").contains("outputs collected to");
    assertThat(remote.methods("default/lost")).as("the orphaned script is stopped before what it wrote is collected")
        .containsSubsequence("stop", "collect");
  }

  @Test
  void aCopyToS3ThatFailedFallsBackToCollectingOverSftp() throws Exception {
    remote.runningProbes = 1;
    remote.exitReason = ProbeResult.ExitReason.SYNC_FAILED;
    remote.exitDetail = "aws s3 sync of checkpoints failed (to s3://bucket/run)";
    TrainingJob job = job("nosync", null, null);

    reconcileUntil(job, Phase.Failed);

    assertThat(failedReason(job)).isEqualTo(Reason.OutputSyncFailed.name());
    assertThat(remote.count("default/nosync", "collect")).isEqualTo(1);
    assertThat(job.getStatus().outputs.collected).containsExactly("model.pt", "checkpoints/");
    assertThat(job.getStatus().outputs.notSaved).as("the fallback saved everything").isNull();
    assertThat(job.getStatus().outputs.uri).isNull();
    assertThat(job.getStatus().message).startsWith("The script exited with code 0, but its outputs were not copied: aws s3 sync")
        .contains("outputs collected to");
  }

  @Test
  void aFailedCopyWhoseFallbackCouldNotSaveEverythingKeepsTheMachineThoughNoHoldWasAskedFor() throws Exception {
    remote.runningProbes = 1;
    remote.exitReason = ProbeResult.ExitReason.SYNC_FAILED;
    remote.collectGate = hungDownload;
    TrainingJob job = job("rescue", null, null);
    reconcileUntil(job, Phase.Finishing);
    await().atMost(WAIT).until(() -> remote.count("default/rescue", "collect") == 1);

    operator.clock.advance(config.remote().collectTimeout().plusSeconds(1));
    operator.reconcile(job);

    assertThat(failedReason(job)).isEqualTo(Reason.OutputSyncFailed.name());
    var hold = Conditions.find(job.getStatus(), ConditionType.DEBUG_HOLD);
    assertThat(hold.status).isEqualTo("True");
    assertThat(hold.message).contains("outputs that could not be saved are only on it (the collect deadline");
    assertThat(released(job)).isFalse();

    operator.clock.advance(DebugHold.RESCUE_HOLD);
    operator.reconcile(job);
    operator.reconcile(job);
    assertThat(released(job)).as("and then released, on time").isTrue();
  }

  @Test
  void aDownloadStillRunningAtTheCollectDeadlineEndsTheJobAndStatusSaysWhatWasNotSaved() throws Exception {
    remote.runningProbes = 1;
    remote.collectGate = hungDownload;
    TrainingJob job = job("hung", null, null);
    reconcileUntil(job, Phase.Finishing);
    await().atMost(WAIT).until(() -> remote.count("default/hung", "collect") == 1);

    operator.clock.advance(config.remote().collectTimeout().minusSeconds(1));
    operator.reconcile(job);
    assertThat(job.getStatus().phase).as("within the deadline it waits").isEqualTo(Phase.Finishing);

    operator.clock.advance(Duration.ofSeconds(2));
    operator.reconcile(job);

    assertThat(job.getStatus().phase).isEqualTo(Phase.Succeeded);
    assertThat(job.getStatus().outputs.notSaved).startsWith("the collect deadline (PT30M from the script's end) passed");
    assertThat(job.getStatus().outputs.collected).as("nothing counted that may be partial").isNull();
    assertThat(job.getStatus().message).contains("outputs not saved: the collect deadline");
    // what was not saved is only on the machine: it is kept for a person to fetch it, though the job succeeded
    assertThat(Conditions.isTrue(job.getStatus(), ConditionType.DEBUG_HOLD)).isTrue();
    assertThat(released(job)).isFalse();
  }

  @Test
  void aMachineThatWentAwaySaysItsOutputsWereNotSaved() throws Exception {
    remote.runningProbes = 1000;
    TrainingJob job = job("vanished", null, 600L);
    operator.reconcileUntil(job, Phase.Running);

    remote.probeFails = new IllegalStateException("connection refused");
    provider.machinesGone = true;
    operator.reconcile(job);

    assertThat(failedReason(job)).isEqualTo(Reason.InstanceLost.name());
    assertThat(job.getStatus().outputs.notSaved).isEqualTo("the machine went away before they were collected");
    operator.reconcile(job);
    assertThat(released(job)).as("a machine that is gone is not held").isTrue();
    assertThat(remote.count("default/vanished", "hold")).isZero();
  }

  @Test
  void aFailedJobsMachineIsKeptForTheDebugHoldAndReleasedWhenItsTimePasses() throws Exception {
    remote.runningProbes = 1;
    remote.exitCode = 1;
    TrainingJob job = job("held", null, 600L);
    reconcileUntil(job, Phase.Failed);

    var control = operator.reconcile(job);
    var hold = Conditions.find(job.getStatus(), ConditionType.DEBUG_HOLD);
    assertThat(hold.status).isEqualTo("True");
    assertThat(hold.message).contains("until " + SyncOperator.START.plusSeconds(0).toString().substring(0, 10))
        .contains("kubectl trainingjob attach held").contains("kubectl trainingjob release held");
    long holds = remote.count("default/held", "hold");
    assertThat(holds).isPositive();
    assertThat(released(job)).isFalse();
    assertThat(provider.count("default/held", "release")).isZero();
    assertThat(control.getScheduleDelay()).isPresent();
    assertThat(operator.events.reasons("default/held")).contains(Reason.DebugHold);

    operator.clock.advance(Duration.ofSeconds(590));
    operator.reconcile(job);
    assertThat(released(job)).as("still within the hold").isFalse();
    assertThat(remote.count("default/held", "hold")).as("each look keeps the shell, the guard's heartbeat and ceiling")
        .isEqualTo(holds + 1);

    operator.clock.advance(Duration.ofSeconds(11));
    operator.reconcile(job);
    operator.reconcile(job);

    assertThat(released(job)).isTrue();
    hold = Conditions.find(job.getStatus(), ConditionType.DEBUG_HOLD);
    assertThat(hold.status).isEqualTo("False");
    assertThat(hold.reason).isEqualTo(Reason.DebugHoldEnded.name());
    assertThat(job.getStatus().cost == null || job.getStatus().timings.released != null).isTrue();
  }

  @Test
  void kubectlTrainingjobReleaseEndsTheHoldEarly() throws Exception {
    remote.runningProbes = 1;
    remote.exitCode = 1;
    TrainingJob job = job("asked", null, 3600L);
    reconcileUntil(job, Phase.Failed);
    operator.reconcile(job);
    assertThat(Conditions.isTrue(job.getStatus(), ConditionType.DEBUG_HOLD)).isTrue();

    job.getMetadata().setAnnotations(Map.of(DebugHold.RELEASE_ANNOTATION, "2026-01-01T00:01:00Z"));
    operator.reconcile(job);
    operator.reconcile(job);

    assertThat(released(job)).isTrue();
    assertThat(Conditions.find(job.getStatus(), ConditionType.DEBUG_HOLD).message).contains("kubectl trainingjob release asked");
  }

  @Test
  void aHeldMachineThatGoesAwayEndsTheHold() throws Exception {
    remote.runningProbes = 1;
    remote.exitCode = 1;
    TrainingJob job = job("reclaimed", null, 3600L);
    reconcileUntil(job, Phase.Failed);
    assertThat(Conditions.isTrue(job.getStatus(), ConditionType.DEBUG_HOLD)).isTrue();

    provider.machinesGone = true;
    operator.reconcile(job);
    operator.reconcile(job);

    assertThat(released(job)).isTrue();
    assertThat(Conditions.find(job.getStatus(), ConditionType.DEBUG_HOLD).message).contains("the machine is gone");
  }

  @Test
  void aHoldThatCannotStartIsSkippedAndTheMachineReleased() throws Exception {
    remote.runningProbes = 1;
    remote.exitCode = 1;
    remote.holdFails = new IllegalStateException("bash: hold.sh: No such file or directory");
    TrainingJob job = job("unholdable", null, 3600L);
    reconcileUntil(job, Phase.Failed);
    operator.reconcile(job);

    assertThat(released(job)).isTrue();
    var hold = Conditions.find(job.getStatus(), ConditionType.DEBUG_HOLD);
    assertThat(hold.reason).isEqualTo(Reason.DebugHoldFailed.name());
    assertThat(hold.message).contains("No such file");
  }

  @Test
  void aSucceededJobIsNeverHeld() throws Exception {
    remote.runningProbes = 1;
    TrainingJob job = job("fine", null, 3600L);
    reconcileUntil(job, Phase.Succeeded);
    operator.reconcile(job);
    operator.reconcile(job);

    assertThat(released(job)).isTrue();
    assertThat(remote.count("default/fine", "hold")).isZero();
    assertThat(Conditions.find(job.getStatus(), ConditionType.DEBUG_HOLD)).isNull();
  }
}
