package dev.trainingjob.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.LimitsSpec;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.remote.HostUnreachableException;
import dev.trainingjob.operator.remote.RemoteHost;
import dev.trainingjob.operator.remote.RemoteHosts;
import dev.trainingjob.operator.remote.SshTarget;
import dev.trainingjob.operator.status.Conditions;
import dev.trainingjob.operator.support.RecordingProvider;
import dev.trainingjob.operator.support.ScriptedRemoteHosts;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The reconciler's decisions, called synchronously with a clock that moves only when the test says
 * so: no API server, no waiting. What JOSDK would do with each answer (write status, look again
 * after) is read off the returned control.
 */
class ReconcilerDecisionsTest {
  private final OperatorConfig config = OperatorConfig.defaults();
  private final RecordingProvider provider = new RecordingProvider("local");
  private final ScriptedRemoteHosts remote = new ScriptedRemoteHosts();
  private SyncOperator operator;

  private TrainingJobReconciler reconciler(RemoteHosts hosts) {
    operator = new SyncOperator(config, "local", List.of(provider), hosts);
    return operator.reconciler;
  }

  private static TrainingJob job(String name) {
    return SyncOperator.job(name);
  }

  private static long delayMillis(UpdateControl<TrainingJob> control) {
    return control.getScheduleDelay().orElseThrow();
  }

  @Test
  void eachReconcileTakesTheNextStepAndSaysWhenToLookAgain() throws Exception {
    var reconciler = reconciler(remote);
    TrainingJob job = job("walk");

    var first = reconciler.reconcile(job, null);
    assertThat(job.getStatus().phase).isEqualTo(Phase.Provisioning);
    assertThat(first.isPatchStatus()).isTrue();
    assertThat(delayMillis(first)).isEqualTo(config.pollInterval().toMillis());

    var second = reconciler.reconcile(job, null);
    assertThat(job.getStatus().phase).isEqualTo(Phase.Bootstrapping);
    assertThat(delayMillis(second)).isEqualTo(config.probeInterval().toMillis());
    assertThat(remote.count("default/walk", "upload")).isEqualTo(1);
    assertThat(job.getStatus().attachCommand).isNotNull();

    List<Phase> seen = new ArrayList<>();
    for (int i = 0; i < 10 && !Conditions.isTrue(job.getStatus(), ConditionType.RELEASED); i++) {
      reconciler.reconcile(job, null);
      seen.add(job.getStatus().phase);
    }
    assertThat(seen).containsSubsequence(Phase.Running, Phase.Succeeded);
    assertThat(Conditions.isTrue(job.getStatus(), ConditionType.RELEASED)).isTrue();
    assertThat(remote.count("default/walk", "startOnce")).isEqualTo(1);
    assertThat(operator.events.reasons("default/walk")).containsSubsequence(Reason.Provisioning,
        Reason.Bootstrapping, Reason.Started, Reason.Running, Reason.Finishing, Reason.Succeeded, Reason.Released);

    // once released, a finished job rests: nothing more to do until the resource changes
    var rest = reconciler.reconcile(job, null);
    assertThat(rest.getScheduleDelay()).isEmpty();
    assertThat(rest.isNoUpdate()).isTrue();
  }

  @Test
  void progressAloneIsWrittenAtMostOncePerIntervalButAPhaseChangeAtOnce() throws Exception {
    remote.runningProbes = 50;
    var reconciler = reconciler(remote);
    TrainingJob job = job("economy");
    operator.reconcileUntil(job, Phase.Running);
    Double before = job.getStatus().progress.epoch;

    var sameInstant = reconciler.reconcile(job, null);
    assertThat(job.getStatus().progress.epoch).isGreaterThan(before);
    assertThat(sameInstant.isPatchStatus()).as("new progress within the write interval").isFalse();

    operator.clock.advance(config.progressWriteInterval());
    assertThat(reconciler.reconcile(job, null).isPatchStatus()).as("new progress after the interval").isTrue();

    remote.runningProbes = 0; // the script exits on the next probe
    assertThat(reconciler.reconcile(job, null).isPatchStatus()).as("a phase change").isTrue();
    assertThat(job.getStatus().phase).isIn(Phase.Succeeded, Phase.Finishing);
  }

  @Test
  void maxRuntimeIsCheckedAtTheDeadlineAndStopsTheScript() throws Exception {
    remote.runningProbes = 1000;
    var reconciler = reconciler(remote);
    TrainingJob job = job("too-long");
    job.getSpec().limits = new LimitsSpec();
    job.getSpec().limits.maxRuntimeSeconds = 60L;
    operator.reconcileUntil(job, Phase.Running);

    operator.clock.advance(Duration.ofSeconds(58));
    var nearDeadline = reconciler.reconcile(job, null);
    // the next look is at the deadline, not a whole probe interval after it
    assertThat(delayMillis(nearDeadline)).isLessThan(config.probeInterval().toMillis()).isGreaterThanOrEqualTo(2000);
    assertThat(remote.count("default/too-long", "stop")).isZero();

    operator.clock.advance(Duration.ofSeconds(3));
    reconciler.reconcile(job, null); // decides the stop, and writes it
    reconciler.reconcile(job, null); // carries it out
    assertThat(job.getStatus().phase).isEqualTo(Phase.Failed);
    assertThat(Conditions.find(job.getStatus(), ConditionType.FAILED).reason).isEqualTo(Reason.MaxRuntimeExceeded.name());
    assertThat(remote.count("default/too-long", "stop")).isEqualTo(1);
    // the Message column and the Warning Event say what kind of failure it was, and what to change
    assertThat(job.getStatus().failure.category).isEqualTo(dev.trainingjob.operator.api.FailureStatus.Category.Timeout);
    assertThat(job.getStatus().message).startsWith("Timeout: the script ran longer than spec.limits.maxRuntimeSeconds");
    assertThat(job.getStatus().failure.hint).contains("spec.limits.maxRuntimeSeconds");
    assertThat(operator.events.reasons("default/too-long")).contains(Reason.MaxRuntimeExceeded);
  }

  @Test
  void sshThatNeverAnswersEndsTheJobAtTheSshReadyTimeoutAndReleasesTheMachine() throws Exception {
    RemoteHosts silent = new RemoteHosts() {
      @Override
      public RemoteHost connect(SshTarget target) throws HostUnreachableException {
        throw new HostUnreachableException(target.host() + ":" + target.port(), "Connection refused", new ConnectException());
      }

      @Override
      public void close() {}
    };
    var reconciler = reconciler(silent);
    TrainingJob job = job("late");
    reconciler.reconcile(job, null);
    var waiting = reconciler.reconcile(job, null);
    assertThat(job.getStatus().phase).isEqualTo(Phase.Bootstrapping);
    assertThat(job.getStatus().message).startsWith("Waiting for SSH");
    assertThat(delayMillis(waiting)).isEqualTo(config.pollInterval().toMillis());

    operator.clock.advance(config.sshReadyTimeout().plusSeconds(1));
    reconciler.reconcile(job, null);
    assertThat(job.getStatus().phase).isEqualTo(Phase.Failed);
    assertThat(Conditions.find(job.getStatus(), ConditionType.FAILED).reason).isEqualTo(Reason.SshUnreachable.name());
    reconciler.reconcile(job, null);
    assertThat(Conditions.isTrue(job.getStatus(), ConditionType.RELEASED)).isTrue();
  }

  @Test
  void anInvalidSpecEndsTheJobWithoutAskingForAMachine() throws Exception {
    var reconciler = reconciler(remote);
    TrainingJob job = job("bad");
    job.getSpec().script.entrypoint = "/etc/passwd";

    var control = reconciler.reconcile(job, null);

    assertThat(job.getStatus().phase).isEqualTo(Phase.Failed);
    var failed = Conditions.find(job.getStatus(), ConditionType.FAILED);
    assertThat(failed.reason).isEqualTo(Reason.InvalidSpec.name());
    assertThat(failed.message).contains("spec.script.entrypoint");
    assertThat(Conditions.find(job.getStatus(), ConditionType.RELEASED).reason).isEqualTo(Reason.NothingToRelease.name());
    assertThat(provider.count("default/bad", "ensure")).isZero();
    assertThat(control.getScheduleDelay()).isEmpty();
  }

  @Test
  void deletionKeepsTheFinalizerUntilTheProviderHasReleasedEverything() throws Exception {
    var reconciler = reconciler(remote);
    TrainingJob job = job("deleted");
    operator.reconcileUntil(job, Phase.Running);

    DeleteControl first = reconciler.cleanup(job, null);
    assertThat(first.isRemoveFinalizer()).isFalse();
    assertThat(first.getScheduleDelay()).contains(config.pollInterval().toMillis());

    DeleteControl second = reconciler.cleanup(job, null);
    assertThat(second.isRemoveFinalizer()).isTrue();
    assertThat(provider.count("default/deleted", "release")).isEqualTo(2);
  }

  /** A failure's message quotes the machine's stderr; a credential in it is masked before status, Events or the log. */
  @Test
  void aFailureQuotingTheMachinesOutputShowsNoCredential() throws Exception {
    remote.screenMissing = true;
    remote.screenMissingMessage = "E: Failed to fetch https://mirror-user:hunter22pass@apt.example.com/pool/screen.deb\n"
        + "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----";
    var reconciler = reconciler(remote);
    TrainingJob job = job("leaky");
    for (int i = 0; i < 5 && (job.getStatus() == null || job.getStatus().phase != Phase.Failed); i++) {
      reconciler.reconcile(job, null);
    }
    assertThat(job.getStatus().phase).isEqualTo(Phase.Failed);
    assertThat(Conditions.find(job.getStatus(), ConditionType.FAILED).reason).isEqualTo("ScreenMissing");
    assertThat(job.getStatus().message).contains("https://******@apt.example.com").doesNotContain("hunter22pass")
        .doesNotContain("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ");
  }
}
