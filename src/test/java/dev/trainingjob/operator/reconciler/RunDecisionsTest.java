package dev.trainingjob.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.api.Annotations;
import dev.trainingjob.operator.api.ComputeSpec;
import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.LimitsSpec;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.PythonSpec;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.status.Conditions;
import dev.trainingjob.operator.support.RecordingProvider;
import dev.trainingjob.operator.support.ScriptedRemoteHosts;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Runs decided synchronously: a changed spec is a new run (on the same machine when spec.compute and spec.python did not
 * change), a finished job whose spec changes runs again, a rerun annotation starts a new run of the same spec, spec.suspend
 * stops, releases and resumes; status.runs keeps the runs before, newest first.
 */
class RunDecisionsTest {
  private final RecordingProvider provider = new RecordingProvider("local");
  private final ScriptedRemoteHosts remote = new ScriptedRemoteHosts();
  private final SyncOperator operator = new SyncOperator(OperatorConfig.defaults(), "local", List.of(provider), remote);

  RunDecisionsTest() {
    provider.onRelease = remote::machineReleased; // a released machine's job directory is gone with it
  }

  private static TrainingJob job(String name) {
    TrainingJob job = SyncOperator.job(name);
    job.getSpec().script.args = List.of("--epochs", "3");
    return job;
  }

  /** What an edit through the API server does: the spec changes and metadata.generation moves on. */
  private static void edit(TrainingJob job, Runnable change) {
    change.run();
    job.getMetadata().setGeneration(job.getMetadata().getGeneration() + 1);
  }

  private long calls(TrainingJob job, String method) {
    return remote.count(job.ref(), method);
  }

  @Test
  void aFinishedJobWhoseSpecChangesRunsAgainAndKeepsTheFirstRunsSummary() throws Exception {
    remote.runningProbes = 1;
    TrainingJob job = job("again");
    operator.reconcileUntil(job, Phase.Succeeded);
    operator.reconcile(job); // released
    assertThat(Conditions.isTrue(job.getStatus(), ConditionType.RELEASED)).isTrue();
    String firstStart = job.getStatus().startedAt;

    edit(job, () -> job.getSpec().script.args = List.of("--epochs", "5"));
    operator.reconcile(job);
    assertThat(job.getStatus().phase).as("a new run, before anything is launched").isEqualTo(Phase.Pending);
    assertThat(job.getStatus().run.number).isEqualTo(2);
    assertThat(job.getStatus().run.generation).isEqualTo(2L);
    assertThat(Conditions.find(job.getStatus(), ConditionType.COMPLETE)).as("the last run's ending is in status.runs now").isNull();
    operator.reconcileUntil(job, Phase.Succeeded);

    var s = job.getStatus();
    assertThat(s.runs).hasSize(1);
    var first = s.runs.get(0);
    assertThat(first.number).isEqualTo(1);
    assertThat(first.generation).isEqualTo(1L);
    assertThat(first.phase).isEqualTo("Succeeded");
    assertThat(first.reason).isEqualTo("Succeeded");
    assertThat(first.exitCode).isZero();
    assertThat(first.startedAt).isEqualTo(firstStart);
    assertThat(remote.uploaded(job.getMetadata().getUid()).args()).as("the new run runs the new spec").containsExactly("--epochs", "5");
    assertThat(provider.launches(job)).as("the first run's machine was released when it ended: a new one").isEqualTo(2);
    assertThat(s.observedGeneration).isEqualTo(2L);
    assertThat(operator.events.reasons(job.ref())).contains(Reason.SpecChanged);

    operator.reconcile(job);
    operator.reconcile(job);
    assertThat(job.getStatus().runs).as("the same spec again is not a new run").hasSize(1);
  }

  @Test
  void aRunningJobEditedMidRunStopsKeepsItsOutputsAndRestartsOnTheSameMachine() throws Exception {
    remote.runningProbes = 1000;
    remote.stopEndsScript = true;
    TrainingJob job = job("mid-run");
    job.getSpec().output = new dev.trainingjob.operator.api.OutputSpec();
    job.getSpec().output.paths = List.of("model.pt");
    operator.reconcileUntil(job, Phase.Running);
    operator.reconcile(job);

    edit(job, () -> {
      job.getSpec().script.args = List.of("--epochs", "5");
      job.getSpec().output.paths = List.of("other.pt");
    });
    operator.reconcile(job);
    assertThat(job.getStatus().ending.reason).as("the stop is written before it is carried out").isEqualTo("SpecChanged");
    assertThat(job.getStatus().observedGeneration).isEqualTo(2L);
    assertThat(job.getStatus().run.generation).as("the run that stops is the first spec's").isEqualTo(1L);
    operator.reconcileUntil(job, Phase.Bootstrapping);

    assertThat(calls(job, "stop")).as("the notice, the grace, the kill").isEqualTo(1);
    assertThat(calls(job, "collect")).as("the stopped run's outputs are collected").isEqualTo(1);
    assertThat(job.getStatus().runs).singleElement().satisfies(r -> {
      assertThat(r.phase).isEqualTo("Stopped");
      assertThat(r.reason).isEqualTo("SpecChanged");
      assertThat(r.generation).isEqualTo(1L);
      assertThat(r.outputUri).as("where its outputs were collected").isNotNull();
    });
    remote.runningProbes = 1;
    operator.reconcileUntil(job, Phase.Succeeded);
    assertThat(calls(job, "renew")).as("the job directory was cleared for the new run, Python kept").isEqualTo(1);
    assertThat(provider.count(job.ref(), "release")).as("the machine was kept between the runs, released at the end").isEqualTo(1);
    assertThat(provider.launches(job)).as("one machine, not two").isEqualTo(1);
    assertThat(calls(job, "upload")).isEqualTo(2);
    assertThat(remote.uploaded(job.getMetadata().getUid()).args()).containsExactly("--epochs", "5");
    assertThat(job.getStatus().attempt).as("the new run counts its own attempts").isEqualTo(1);
    assertThat(job.getStatus().run.number).isEqualTo(2);
  }

  @Test
  void aChangedComputeOrPythonReleasesTheMachineBeforeTheNewRunGetsOne() throws Exception {
    remote.runningProbes = 1000;
    remote.stopEndsScript = true;
    TrainingJob job = job("new-python");
    operator.reconcileUntil(job, Phase.Running);

    edit(job, () -> {
      job.getSpec().python = new PythonSpec();
      job.getSpec().python.requirements = List.of("numpy==2.1.0");
    });
    for (int i = 0; i < 20 && provider.launches(job) < 2; i++) {
      operator.reconcile(job);
    }
    assertThat(provider.launches(job)).isEqualTo(2);
    var calls = provider.calls(job.ref()).stream().map(RecordingProvider.Call::method).toList();
    assertThat(calls.lastIndexOf("release")).as("released before the next machine is asked for")
        .isLessThan(calls.lastIndexOf("ensure"));
    assertThat(calls(job, "renew")).isZero();
    remote.runningProbes = 1;
    operator.reconcileUntil(job, Phase.Succeeded);
    assertThat(job.getStatus().runs).extracting(r -> r.reason).containsExactly("SpecChanged");
  }

  @Test
  void aRerunAnnotationStartsANewRunOfTheSameSpecOncePerValue() throws Exception {
    remote.runningProbes = 1;
    TrainingJob job = job("rerun");
    job.getMetadata().setAnnotations(new HashMap<>());
    job.getMetadata().getAnnotations().put(Annotations.RERUN, "at-creation");
    operator.reconcileUntil(job, Phase.Succeeded);
    operator.reconcile(job);
    assertThat(job.getStatus().runs).as("a value there from the start is not a rerun").isNull();

    job.getMetadata().getAnnotations().put(Annotations.RERUN, "2026-01-01T01:00:00Z");
    operator.reconcile(job);
    assertThat(job.getStatus().phase).isEqualTo(Phase.Pending);
    operator.reconcileUntil(job, Phase.Succeeded);
    operator.reconcile(job);
    operator.reconcile(job);
    assertThat(job.getStatus().runs).extracting(r -> r.phase + ":" + r.reason).containsExactly("Succeeded:Succeeded");
    assertThat(job.getStatus().run.rerun).isEqualTo("2026-01-01T01:00:00Z");
    assertThat(job.getStatus().run.generation).as("the same spec").isEqualTo(1L);
    assertThat(operator.events.reasons(job.ref())).contains(Reason.Rerun);
  }

  @Test
  void suspendStopsReleasesAndResumesAsTheNextAttemptWithoutCountingTheTimeAway() throws Exception {
    remote.runningProbes = 1000;
    remote.stopEndsScript = true;
    TrainingJob job = job("suspended");
    job.getSpec().limits = new LimitsSpec();
    job.getSpec().limits.maxRuntimeSeconds = 600L;
    operator.reconcileUntil(job, Phase.Running);
    operator.clock.advance(Duration.ofSeconds(300));
    operator.reconcile(job);

    edit(job, () -> job.getSpec().suspend = true);
    operator.reconcileUntil(job, Phase.Suspended);
    for (int i = 0; i < 5; i++) {
      operator.reconcile(job);
    }
    var s = job.getStatus();
    assertThat(s.phase).isEqualTo(Phase.Suspended);
    assertThat(Conditions.isTrue(s, ConditionType.SUSPENDED)).isTrue();
    assertThat(s.instance).as("the machine was given back").isNull();
    assertThat(provider.count(job.ref(), "release")).isPositive();
    assertThat(s.runs).as("suspending is not a new run").isNull();
    assertThat(s.run.generation).as("the run follows a generation that only suspends").isEqualTo(2L);
    assertThat(s.attempts).extracting(a -> a.reason).containsExactly("Suspended");
    assertThat(s.attempt).isEqualTo(2);

    operator.clock.advance(Duration.ofHours(5)); // away far longer than maxRuntimeSeconds
    edit(job, () -> job.getSpec().suspend = false);
    operator.reconcile(job);
    assertThat(Conditions.isTrue(job.getStatus(), ConditionType.SUSPENDED)).isFalse();
    operator.reconcileUntil(job, Phase.Running);
    assertThat(provider.launches(job)).as("a new machine for the resumed attempt").isEqualTo(2);
    assertThat(job.getStatus().attempt).isEqualTo(2);
    operator.clock.advance(Duration.ofSeconds(200));
    operator.reconcile(job);
    assertThat(job.getStatus().ending).as("500 s of the script's 600: the 5 h away do not count").isNull();
    operator.clock.advance(Duration.ofSeconds(101));
    operator.reconcile(job);
    assertThat(job.getStatus().ending.reason).isEqualTo("MaxRuntimeExceeded");
  }

  @Test
  void onAMachineThatStaysSuspendKeepsTheJobDirectoryAndResumesThereAsTheNextAttempt() throws Exception {
    provider.machinePerJob = false;
    remote.runningProbes = 1000;
    remote.stopEndsScript = true;
    TrainingJob job = job("stays");
    operator.reconcileUntil(job, Phase.Running);
    edit(job, () -> job.getSpec().suspend = true);
    operator.reconcileUntil(job, Phase.Suspended);
    operator.reconcile(job);
    assertThat(provider.count(job.ref(), "release")).as("its directory, Python and checkpoint stay").isZero();
    assertThat(calls(job, "cleanup")).isZero();

    edit(job, () -> job.getSpec().suspend = false);
    remote.runningProbes = 1;
    operator.reconcileUntil(job, Phase.Succeeded);
    assertThat(calls(job, "upload")).as("the files there are used again").isEqualTo(1);
    assertThat(calls(job, "startOnce")).as("attempt 2 in the same directory").isEqualTo(2);
    assertThat(calls(job, "renew")).isZero();
    assertThat(job.getStatus().attempts).extracting(a -> a.reason).containsExactly("Suspended", "Succeeded");
  }

  @Test
  void aJobSuspendedBeforeItRanHoldsNothingAndAFinishedJobIgnoresSuspend() throws Exception {
    TrainingJob early = job("early");
    early.getSpec().suspend = true;
    operator.reconcile(early);
    assertThat(early.getStatus().phase).isEqualTo(Phase.Suspended);
    assertThat(provider.count(early.ref(), "ensure")).isZero();
    edit(early, () -> early.getSpec().suspend = false);
    remote.runningProbes = 1;
    operator.reconcileUntil(early, Phase.Succeeded);

    operator.reconcile(early);
    edit(early, () -> early.getSpec().suspend = true);
    operator.reconcile(early);
    assertThat(early.getStatus().phase).as("as batch/v1 Job: a finished job stays finished").isEqualTo(Phase.Succeeded);
    assertThat(early.getStatus().runs).isNull();
  }

  @Test
  void aChangedSpecEndsAFailedJobsDebugHoldAndRunsAgain() throws Exception {
    remote.runningProbes = 1;
    remote.exitCode = 1;
    TrainingJob job = job("held");
    job.getSpec().limits = new LimitsSpec();
    job.getSpec().limits.keepAfterFailureSeconds = 3600L;
    operator.reconcileUntil(job, Phase.Failed);
    operator.reconcile(job);
    assertThat(Conditions.isTrue(job.getStatus(), ConditionType.DEBUG_HOLD)).isTrue();

    remote.exitCode = 0;
    edit(job, () -> job.getSpec().script.args = List.of("--fixed"));
    var control = operator.reconcile(job);
    assertThat(Conditions.find(job.getStatus(), ConditionType.DEBUG_HOLD).message).contains("a new run");
    for (int i = 0; i < 10 && job.getStatus().phase == Phase.Failed; i++) {
      // nothing else wakes an ended job (its own status writes do not): each look asks for the next until the new run starts
      assertThat(control.getScheduleDelay()).as("a new run waits for the release: looked at again").isPresent();
      control = operator.reconcile(job);
    }
    assertThat(job.getStatus().phase).isNotEqualTo(Phase.Failed);
    operator.reconcileUntil(job, Phase.Succeeded);
    assertThat(job.getStatus().runs).extracting(r -> r.phase + ":" + r.reason).containsExactly("Failed:ScriptFailed");
  }

  @Test
  void suspendDuringARetrysBackoffSuspendsWithoutBurningTheRetries() throws Exception {
    remote.runningProbes = 1;
    remote.exitCodeOf = attempt -> attempt == 1 ? 3 : 0;
    TrainingJob job = job("backoff");
    job.getSpec().retry = new dev.trainingjob.operator.api.RetrySpec();
    job.getSpec().retry.maxRetries = 3;
    job.getSpec().retry.backoffSeconds = 600L;
    job.getSpec().retry.onExitCodes = List.of(3);
    for (int i = 0; i < 50 && (job.getStatus() == null || job.getStatus().retries == null); i++) {
      operator.reconcile(job);
    }
    assertThat(job.getStatus().phase).as("attempt 2 waits for its backoff").isEqualTo(Phase.Bootstrapping);

    edit(job, () -> job.getSpec().suspend = true);
    operator.reconcileUntil(job, Phase.Suspended);
    var s = job.getStatus();
    assertThat(s.retries).as("the exit record of attempt 1 is not read as attempt 2's").isEqualTo(1);
    assertThat(s.attempts).extracting(a -> a.reason).containsExactly("ExitCode", "Suspended");

    edit(job, () -> job.getSpec().suspend = false);
    operator.reconcileUntil(job, Phase.Succeeded);
    assertThat(job.getStatus().attempts).extracting(a -> a.reason).containsExactly("ExitCode", "Suspended", "Succeeded");
  }

  @Test
  void aResumeWaitsUntilTheSuspendedMachineIsReleased() throws Exception {
    remote.runningProbes = 1000;
    remote.stopEndsScript = true;
    provider.releaseCallsNeeded = 3; // an instance that takes a while to terminate
    TrainingJob job = job("slow-release");
    operator.reconcileUntil(job, Phase.Running);
    edit(job, () -> job.getSpec().suspend = true);
    operator.reconcileUntil(job, Phase.Suspended);
    assertThat(Conditions.isTrue(job.getStatus(), ConditionType.RELEASED)).as("still terminating").isFalse();

    edit(job, () -> job.getSpec().suspend = false);
    long ensured = provider.count(job.ref(), "ensure");
    operator.reconcile(job);
    assertThat(job.getStatus().phase).isEqualTo(Phase.Suspended);
    assertThat(provider.count(job.ref(), "ensure")).as("nothing launched while the last machine is held").isEqualTo(ensured);
    remote.runningProbes = 1;
    operator.reconcileUntil(job, Phase.Succeeded);
    assertThat(provider.launches(job)).isEqualTo(2);
  }

  @Test
  void anEditMidRunToASpecThatCannotRunEndsInvalidSpecWithTheRunBeforeKeptAndTheMachineReleased() throws Exception {
    remote.runningProbes = 1000;
    remote.stopEndsScript = true;
    TrainingJob job = job("broken-edit");
    operator.reconcileUntil(job, Phase.Running);
    edit(job, () -> job.getSpec().script.entrypoint = "../elsewhere.py");
    operator.reconcileUntil(job, Phase.Failed);
    operator.reconcile(job);
    var s = job.getStatus();
    assertThat(Conditions.find(s, ConditionType.FAILED).reason).isEqualTo("InvalidSpec");
    assertThat(s.message).contains("spec.script.entrypoint");
    assertThat(s.runs).extracting(r -> r.phase + ":" + r.reason).containsExactly("Stopped:SpecChanged");
    assertThat(calls(job, "renew")).as("never put on the machine").isZero();
    assertThat(Conditions.isTrue(s, ConditionType.RELEASED)).isTrue();
  }

  @Test
  void limitsAndRetryApplyToTheRunInProgressWithoutANewRun() throws Exception {
    remote.runningProbes = 1000;
    TrainingJob job = job("live-limits");
    job.getSpec().limits = new LimitsSpec();
    job.getSpec().limits.maxRuntimeSeconds = 100L;
    operator.reconcileUntil(job, Phase.Running);
    edit(job, () -> job.getSpec().limits.maxRuntimeSeconds = 1000L);
    operator.clock.advance(Duration.ofSeconds(200));
    operator.reconcile(job);
    assertThat(job.getStatus().ending).as("the longer limit applies to the run in progress").isNull();
    assertThat(job.getStatus().run.number).isEqualTo(1);
    assertThat(job.getStatus().run.generation).isEqualTo(2L);
  }

  @Test
  void statusRunsKeepsTheNewestTen() throws Exception {
    remote.runningProbes = 1;
    TrainingJob job = job("many");
    job.getMetadata().setAnnotations(new HashMap<>());
    for (int run = 1; run <= 12; run++) {
      if (run > 1) {
        job.getMetadata().getAnnotations().put(Annotations.RERUN, "r" + run);
        operator.reconcile(job);
      }
      operator.reconcileUntil(job, Phase.Succeeded);
      operator.reconcile(job);
    }
    assertThat(job.getStatus().run.number).isEqualTo(12);
    assertThat(job.getStatus().runs).hasSize(Runs.KEPT);
    assertThat(job.getStatus().runs).extracting(r -> r.number).startsWith(11, 10).endsWith(2);
  }

  @Test
  void theDigestLeavesSuspendOutAndSeesComputeAndPython() {
    TrainingJob a = job("a");
    TrainingJob b = job("b");
    b.getSpec().suspend = true;
    assertThat(Runs.specDigest(a.getSpec())).isEqualTo(Runs.specDigest(b.getSpec()));
    b.getSpec().script.args = List.of("--epochs", "5");
    assertThat(Runs.specDigest(a.getSpec())).isNotEqualTo(Runs.specDigest(b.getSpec()));
    assertThat(Runs.machineDigest(a.getSpec())).isEqualTo(Runs.machineDigest(b.getSpec()));
    b.getSpec().compute = new ComputeSpec();
    b.getSpec().compute.local = new ComputeSpec.LocalSpec();
    assertThat(Runs.machineDigest(a.getSpec())).isNotEqualTo(Runs.machineDigest(b.getSpec()));
  }
}
