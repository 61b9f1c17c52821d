package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.status.Conditions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.api.ComputeSpec;
import dev.trainingjob.operator.api.EnvVarSpec;
import dev.trainingjob.operator.api.JobCondition;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.remote.ProbeResult;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.support.Jobs;
import dev.trainingjob.operator.support.OperatorHarness;
import dev.trainingjob.operator.support.RecordingProvider;
import dev.trainingjob.operator.support.ScriptedRemoteHosts;
import io.fabric8.kubernetes.api.model.Event;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TrainingJobLifecycleTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private RecordingProvider provider;
  private ScriptedRemoteHosts remote;
  private OperatorHarness harness;

  @BeforeEach
  void start() {
    provider = new RecordingProvider("local");
    remote = new ScriptedRemoteHosts();
    harness = new OperatorHarness("local", List.of(provider, new RecordingProvider("ec2")), remote);
  }

  @AfterEach
  void stop() {
    harness.close();
  }

  @Test
  void aNewJobWalksThroughEveryPhaseToSucceededAndIsReleased() {
    harness.create(Jobs.simple("walk"));

    await().atMost(WAIT).until(() -> phase("walk") == Phase.Succeeded
        && isTrue(harness.get("walk"), ConditionType.RELEASED));

    TrainingJob job = harness.get("walk");
    assertThat(job.getStatus().exitCode).isZero();
    assertThat(job.getStatus().observedGeneration).isEqualTo(job.getMetadata().getGeneration());
    assertThat(job.getStatus().instance.type).isEqualTo("fake.large");
    assertThat(job.getStatus().progress.percent).isEqualTo(100.0);
    assertThat(job.getStatus().progress.summary).isEqualTo("100%");
    assertThat(job.getStatus().logTail).contains("saved model.pt");
    assertThat(job.getStatus().startedAt).isNotNull();
    assertThat(job.getStatus().finishedAt).isNotNull();
    assertThat(job.getMetadata().getFinalizers()).isNotEmpty();
    assertThat(isTrue(job, ConditionType.COMPLETE)).isTrue();
    assertThat(condition(job, ConditionType.PROGRESSING).status).isEqualTo("False");

    // one Event per phase change, in order, each with a searchable reason
    assertThat(harness.events("walk").stream().map(Event::getReason).toList())
        .containsSubsequence("Provisioning", "Bootstrapping", "Running", "Finishing", "Succeeded", "Released");
    assertThat(remote.count("default/walk", "upload")).isEqualTo(1);
    assertThat(remote.count("default/walk", "startOnce")).isEqualTo(1);
    assertThat(provider.count("default/walk", "release")).isGreaterThanOrEqualTo(2);
  }

  /**
   * An exit noticed at once, while screen has not yet written the log's last line: the ending waits for the session's end,
   * so the failure is told from the whole traceback.
   */
  @Test
  void anExitSeenBeforeTheLogIsCompleteIsDiagnosedFromTheWholeLog() {
    remote.exitCode = 3;
    remote.exitSeenBeforeTheLogIsFlushed = true;
    harness.create(Jobs.simple("early"));

    await().atMost(WAIT).until(() -> phase("early") == Phase.Failed);
    TrainingJob job = harness.get("early");
    assertThat(job.getStatus().failure.line).isEqualTo("ValueError: boom");
    assertThat(job.getStatus().message).contains("ValueError: boom");
  }

  /** An error that retrying may fix is said in status while JOSDK retries, and the job goes on once it clears. */
  @Test
  void aProviderErrorIsSaidInStatusWhileItIsRetriedAndTheJobGoesOnOnceItClears() {
    provider.ensureFails = new IllegalStateException("the provider's API answered 500");
    harness.create(Jobs.simple("flaky"));

    await().atMost(WAIT).until(() -> harness.get("flaky").getStatus() != null
        && "Retrying after an error: the provider's API answered 500".equals(harness.get("flaky").getStatus().message));
    assertThat(harness.events("flaky").stream().map(Event::getReason)).contains("ReconcileError");
    provider.ensureFails = null;

    await().atMost(WAIT).until(() -> phase("flaky") == Phase.Succeeded);
    assertThat(harness.get("flaky").getStatus().message).doesNotContain("Retrying");
  }

  @Test
  void aFailingScriptEndsFailedWithTheExceptionInTheMessageAndIsStillReleased() {
    remote.exitCode = 3;
    harness.create(Jobs.simple("boom"));

    await().atMost(WAIT).until(() -> phase("boom") == Phase.Failed && isTrue(harness.get("boom"), ConditionType.RELEASED));

    TrainingJob job = harness.get("boom");
    assertThat(job.getStatus().exitCode).isEqualTo(3);
    assertThat(job.getStatus().message).startsWith("ScriptError: ").contains("exited with code 3").contains("ValueError: boom");
    assertThat(job.getStatus().failure.category).isEqualTo(dev.trainingjob.operator.api.FailureStatus.Category.ScriptError);
    assertThat(job.getStatus().failure.line).isEqualTo("ValueError: boom");
    assertThat(condition(job, ConditionType.FAILED).reason).isEqualTo("ScriptFailed");
    assertThat(harness.events("boom")).anyMatch(e -> "ScriptFailed".equals(e.getReason()) && "Warning".equals(e.getType())
        && e.getMessage().startsWith("ScriptError: "));
  }

  @Test
  void aBootstrapFailureReportedByTheDriverFailsAsBootstrapFailedWithItsDetail() {
    remote.runningProbes = 0; // the script never ran
    remote.exitCode = 1;
    remote.exitReason = ProbeResult.ExitReason.bootstrapFailed("pip");
    remote.exitDetail = "installing requirements with pip (venv)";
    harness.create(Jobs.simple("nopip"));

    await().atMost(WAIT).until(() -> phase("nopip") == Phase.Failed && isTrue(harness.get("nopip"), ConditionType.RELEASED));

    JobCondition failed = condition(harness.get("nopip"), ConditionType.FAILED);
    assertThat(failed.reason).isEqualTo("BootstrapFailed");
    assertThat(failed.message).startsWith("BootstrapFailed: Python bootstrap failed while installing requirements with pip (venv) "
        + "(exit code 1)");
    assertThat(harness.get("nopip").getStatus().failure.category).isEqualTo(dev.trainingjob.operator.api.FailureStatus.Category.BootstrapFailed);
    assertThat(remote.count("default/nopip", "collect")).as("nothing to collect from a script that never ran").isZero();
  }

  @Test
  void anOutputSyncFailureReportedByTheDriverFailsAsOutputSyncFailedWithItsDetail() {
    remote.exitReason = ProbeResult.ExitReason.SYNC_FAILED;
    remote.exitDetail = "aws s3 cp of model.pt failed (to s3://bucket/run)";
    harness.create(Jobs.simple("nosync"));

    await().atMost(WAIT).until(() -> phase("nosync") == Phase.Failed && isTrue(harness.get("nosync"), ConditionType.RELEASED));

    JobCondition failed = condition(harness.get("nosync"), ConditionType.FAILED);
    assertThat(failed.reason).isEqualTo("OutputSyncFailed");
    assertThat(failed.message)
        .isEqualTo("The script exited with code 0, but its outputs were not copied: aws s3 cp of model.pt failed (to s3://bucket/run)");
  }

  @Test
  void aReasonCodeFromANewerDriverIsJudgedByTheExitCodeAlone() {
    remote.exitReason = ProbeResult.ExitReason.parse("preempted-by-spot");
    remote.exitDetail = "bootstrap failed while pretending"; // a sentence is never read for its meaning
    harness.create(Jobs.simple("newer"));

    await().atMost(WAIT).until(() -> phase("newer") == Phase.Succeeded && isTrue(harness.get("newer"), ConditionType.RELEASED));

    assertThat(harness.get("newer").getStatus().exitCode).isZero();
  }

  @Test
  void aMachineWithoutScreenFailsWithScreenMissingAndIsReleased() {
    remote.screenMissing = true;
    harness.create(Jobs.simple("noscreen"));

    await().atMost(WAIT).until(() -> phase("noscreen") == Phase.Failed && isTrue(harness.get("noscreen"), ConditionType.RELEASED));

    JobCondition failed = condition(harness.get("noscreen"), ConditionType.FAILED);
    assertThat(failed.reason).isEqualTo("ScreenMissing");
    assertThat(failed.message).contains("GNU screen is not installed");
  }

  @Test
  void anInvalidSpecFailsWithInvalidSpecNamingTheFieldAndTouchesNoProvider() {
    TrainingJob bad = Jobs.inline("bad", "../escape.py", java.util.Map.of("train.py", "x"));
    var env = new EnvVarSpec();
    env.name = "1BAD";
    env.value = "v";
    bad.getSpec().env = List.of(env);
    harness.create(bad);

    await().atMost(WAIT).until(() -> phase("bad") == Phase.Failed);

    TrainingJob job = harness.get("bad");
    JobCondition failed = condition(job, ConditionType.FAILED);
    assertThat(failed.reason).isEqualTo("InvalidSpec");
    assertThat(failed.message).contains("spec.script.entrypoint").contains("..").contains("spec.env[0].name");
    assertThat(job.getStatus().message).isEqualTo(failed.message);
    await().atMost(WAIT).until(() -> harness.events("bad").stream().anyMatch(e -> "InvalidSpec".equals(e.getReason())));
    assertThat(harness.events("bad")).filteredOn(e -> "InvalidSpec".equals(e.getReason()))
        .allMatch(e -> e.getMessage().contains("spec.env[0].name") && "Warning".equals(e.getType()));
    assertThat(provider.calls("default/bad")).isEmpty();
    assertThat(remote.count("default/bad", "upload")).isZero();
  }

  @Test
  void twoProvidersInOneSpecAreRefusedBeforeAnyProviderCall() {
    TrainingJob bad = Jobs.simple("two");
    bad.getSpec().compute = new ComputeSpec();
    bad.getSpec().compute.local = new ComputeSpec.LocalSpec();
    bad.getSpec().compute.ec2 = new ComputeSpec.Ec2Spec();
    bad.getSpec().compute.ec2.instanceType = "g5.xlarge";
    harness.create(bad);

    await().atMost(WAIT).until(() -> phase("two") == Phase.Failed);
    assertThat(harness.get("two").getStatus().message).contains("spec.compute").contains("more than one provider");
    assertThat(provider.calls("default/two")).isEmpty();
  }

  @Test
  void deletingAJobRunsTheReleasePathThenRemovesTheFinalizer() {
    remote.runningProbes = 100_000; // stays Running
    harness.create(Jobs.simple("gone"));
    await().atMost(WAIT).until(() -> phase("gone") == Phase.Running);
    long releasesBefore = provider.count("default/gone", "release");

    harness.client().resources(TrainingJob.class).inNamespace(OperatorHarness.NS).withName("gone").delete();

    await().atMost(WAIT).until(() -> harness.get("gone") == null);
    // the double needs two release calls: the finalizer stayed until the second said "nothing left"
    assertThat(provider.count("default/gone", "release") - releasesBefore).isGreaterThanOrEqualTo(2);
  }

  @Test
  void aReconcileThatLearnsNothingNewWritesNoStatus() {
    remote.unchanging = true;
    harness.create(Jobs.simple("quiet"));
    await().atMost(WAIT).until(() -> phase("quiet") == Phase.Running && harness.get("quiet").getStatus().progress != null);
    long writesBefore = statusWrites("quiet");
    long probesBefore = remote.count("default/quiet", "probe");

    await().atMost(WAIT).until(() -> remote.count("default/quiet", "probe") >= probesBefore + 5);

    assertThat(statusWrites("quiet") - writesBefore).isZero();
    assertThat(writesBefore).isPositive(); // the counter does see status writes
  }

  @Test
  void progressAloneIsWrittenAtMostOncePerIntervalButPhasesAtOnce() {
    harness.close();
    remote = new ScriptedRemoteHosts();
    remote.runningProbes = 40; // forty different progress records, one per probe
    Duration interval = Duration.ofSeconds(2);
    harness = new OperatorHarness(dev.trainingjob.operator.config.OperatorConfig.defaults().with(c -> {
      c.defaultProvider = "local";
      c.pollInterval = c.probeInterval = Duration.ofMillis(100);
      c.progressWriteInterval = interval;
      c.metricsPort = -1;
    }), List.of(provider), remote);
    java.time.Instant began = java.time.Instant.now();
    harness.create(Jobs.simple("chatty"));
    await().atMost(WAIT).until(() -> phase("chatty") == Phase.Succeeded);
    Duration took = Duration.between(began, java.time.Instant.now());

    long probes = remote.count("default/chatty", "probe");
    long writes = statusWrites("chatty");
    assertThat(probes).isGreaterThan(40);
    // phase changes (Pending, Provisioning, Bootstrapping, Running, Finishing, Succeeded, Released) plus one per interval at most
    assertThat(writes).isLessThanOrEqualTo(8 + took.toMillis() / interval.toMillis() + 1).isLessThan(probes / 2);
    // the final write came at once, with the final progress
    assertThat(harness.get("chatty").getStatus().progress.summary).isEqualTo("100%");
  }

  @Test
  void aLongDownloadOfOutputsDoesNotHoldTheReconcile() {
    remote.collectGate = new java.util.concurrent.CountDownLatch(1);
    TrainingJob job = Jobs.simple("big-outputs");
    job.getSpec().output = new dev.trainingjob.operator.api.OutputSpec();
    job.getSpec().output.paths = List.of("checkpoints/");
    harness.create(job);
    // the status says what it waits for while the download runs beside the reconciles
    await().atMost(WAIT).until(() -> phase("big-outputs") == Phase.Finishing
        && harness.get("big-outputs").getStatus().message.contains("collecting outputs"));
    assertThat(remote.count("default/big-outputs", "collect")).isEqualTo(1);
    // probes go on beside the download: on ec2 they keep the machine's own guard from powering it off under it
    long probes = remote.count("default/big-outputs", "probe");
    await().atMost(WAIT).until(() -> remote.count("default/big-outputs", "probe") >= probes + 3);

    remote.collectGate.countDown();
    await().atMost(WAIT).until(() -> phase("big-outputs") == Phase.Succeeded);
    assertThat(harness.get("big-outputs").getStatus().message).contains("outputs collected").contains("(1 of 1)");
    assertThat(remote.count("default/big-outputs", "collect")).as("downloaded once, not once per check").isEqualTo(1);
  }

  /** Downloads are bounded (--collect-threads): a job past the bound waits its turn, probed meanwhile, and then ends too. */
  @Test
  void downloadsPastTheCollectThreadsWaitTheirTurnAndThenEnd() {
    harness.close();
    harness = new OperatorHarness(OperatorConfig.defaults().with(c -> {
      c.defaultProvider = "local";
      c.pollInterval = c.probeInterval = Duration.ofMillis(200);
      c.metricsPort = -1;
      c.collectThreads = 1;
    }), List.of(provider), remote);
    remote.collectGate = new java.util.concurrent.CountDownLatch(1);
    for (String name : List.of("first", "second")) {
      TrainingJob job = Jobs.simple(name);
      job.getSpec().output = new dev.trainingjob.operator.api.OutputSpec();
      job.getSpec().output.paths = List.of("checkpoints/");
      harness.create(job);
    }
    await().atMost(WAIT).until(() -> phase("first") == Phase.Finishing && phase("second") == Phase.Finishing);
    long probes = remote.count("default/second", "probe") + remote.count("default/first", "probe");
    await().atMost(WAIT).until(() -> remote.count("default/second", "probe") + remote.count("default/first", "probe") >= probes + 6);
    assertThat(remote.count("default/first", "collect") + remote.count("default/second", "collect"))
        .as("one download at a time").isEqualTo(1);
    String waiting = remote.count("default/first", "collect") == 0 ? "first" : "second";
    await().atMost(WAIT).until(() -> harness.get(waiting).getStatus().message.contains("waiting for a turn to collect outputs"));

    remote.collectGate.countDown();
    await().atMost(WAIT).until(() -> phase("first") == Phase.Succeeded && phase("second") == Phase.Succeeded);
    assertThat(remote.count("default/first", "collect")).isEqualTo(1);
    assertThat(remote.count("default/second", "collect")).isEqualTo(1);
  }

  @Test
  void aScriptPastItsMaxRuntimeIsStoppedAndTheJobFails() {
    remote.runningProbes = 100_000; // would run for ever
    TrainingJob job = Jobs.simple("too-long");
    job.getSpec().limits = new dev.trainingjob.operator.api.LimitsSpec();
    job.getSpec().limits.maxRuntimeSeconds = 1L;
    harness.create(job);
    await().atMost(WAIT).until(() -> phase("too-long") == Phase.Failed && isTrue(harness.get("too-long"), ConditionType.RELEASED));
    assertThat(condition(harness.get("too-long"), ConditionType.FAILED).reason).isEqualTo("MaxRuntimeExceeded");
    assertThat(harness.get("too-long").getStatus().message).contains("maxRuntimeSeconds (1s)");
    assertThat(remote.count("default/too-long", "stop")).isPositive();
  }

  @Test
  void aScriptThatEndsBeforeAnyProbeSeesItRunStillHasItsAttachCommand() {
    remote.runningProbes = 0; // bootstrapping, then already exited
    harness.create(Jobs.simple("quick"));
    await().atMost(WAIT).until(() -> phase("quick") == Phase.Succeeded);
    assertThat(harness.get("quick").getStatus().attachCommand).isNotBlank();
  }

  @Test
  void anS3UriOnAProviderThatCannotCopyThereIsRefusedClearly() {
    TrainingJob job = Jobs.simple("s3-local");
    job.getSpec().output = new dev.trainingjob.operator.api.OutputSpec();
    job.getSpec().output.s3Uri = "s3://bucket/run";
    harness.create(job);
    await().atMost(WAIT).until(() -> phase("s3-local") == Phase.Failed);
    assertThat(harness.get("s3-local").getStatus().message).contains("spec.output.s3Uri").contains("ec2");
    assertThat(provider.count("default/s3-local", "ensure")).isZero();
  }

  private long statusWrites(String name) {
    return harness.api.requests(r -> ("PATCH".equals(r.method()) || "PUT".equals(r.method()))
        && r.path().contains("/trainingjobs/" + name + "/status")).size();
  }

  private Phase phase(String name) {
    TrainingJob job = harness.get(name);
    return job == null || job.getStatus() == null ? null : job.getStatus().phase;
  }

  private static JobCondition condition(TrainingJob job, String type) {
    return Conditions.find(job.getStatus(), type);
  }

  private static boolean isTrue(TrainingJob job, String type) {
    return job != null && Conditions.isTrue(job.getStatus(), type);
  }
}
