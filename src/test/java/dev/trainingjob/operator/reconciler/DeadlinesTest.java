package dev.trainingjob.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.LimitsSpec;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.SpecValidator;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.status.Conditions;
import dev.trainingjob.operator.support.RecordingProvider;
import dev.trainingjob.operator.support.ScriptedRemoteHosts;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every phase before Running has one deadline, spec.limits.maxPendingSeconds, and nothing outlives it. */
class DeadlinesTest {
  private final ScriptedRemoteHosts remote = new ScriptedRemoteHosts();

  private static TrainingJob job(String name, long maxPendingSeconds) {
    TrainingJob job = SyncOperator.job(name);
    job.getSpec().limits = new LimitsSpec();
    job.getSpec().limits.maxPendingSeconds = maxPendingSeconds;
    return job;
  }

  @Test
  void aMachineThatNeverComesUpEndsPendingTimeoutAtTheDeadlineAndIsReleased() throws Exception {
    var provider = new RecordingProvider("local");
    provider.looksBeforeRunning = Integer.MAX_VALUE; // no capacity, ever
    var operator = new SyncOperator(OperatorConfig.defaults(), "local", List.of(provider), remote);
    TrainingJob job = job("no-capacity", 120);

    operator.reconcile(job);
    assertThat(job.getStatus().phase).isEqualTo(Phase.Provisioning);

    operator.clock.advance(Duration.ofSeconds(115));
    var nearDeadline = operator.reconcile(job);
    // the next look is just past the deadline, not a whole poll interval later
    assertThat(nearDeadline.getScheduleDelay().orElseThrow()).isLessThan(operator.config.pollInterval().toMillis())
        .isGreaterThanOrEqualTo(5000);

    operator.clock.advance(Duration.ofSeconds(6));
    operator.reconcile(job);
    assertThat(job.getStatus().phase).isEqualTo(Phase.Failed);
    var failed = Conditions.find(job.getStatus(), ConditionType.FAILED);
    assertThat(failed.reason).isEqualTo(Reason.PendingTimeout.name());
    assertThat(failed.message).contains("maxPendingSeconds (120s)").contains("Provisioning").contains("fake machine is booting");
    assertThat(provider.count(job.ref(), "release")).isPositive();
  }

  @Test
  void anErrorRetriedWithoutEndStopsAtTheDeadline() throws Exception {
    var provider = new RecordingProvider("local");
    provider.ensureFails = new IllegalStateException("the cloud answers 503");
    var operator = new SyncOperator(OperatorConfig.defaults(), "local", List.of(provider), remote);
    TrainingJob job = job("flaky-cloud", 300);

    for (int i = 0; i < 3; i++) {
      try {
        operator.reconcile(job);
      } catch (IllegalStateException retried) {
        // JOSDK retries this with backoff
      }
      operator.clock.advance(Duration.ofSeconds(60));
    }
    assertThat(job.getStatus().phase).isEqualTo(Phase.Provisioning);

    operator.clock.advance(Duration.ofSeconds(121));
    operator.reconcile(job);
    assertThat(Conditions.find(job.getStatus(), ConditionType.FAILED).reason).isEqualTo(Reason.PendingTimeout.name());
  }

  @Test
  void sshThatNeverAnswersEndsAtThePendingDeadlineWhenThatComesFirst() throws Exception {
    var provider = new RecordingProvider("local");
    provider.sshPort = 1; // nothing answers there
    var operator = new SyncOperator(OperatorConfig.defaults(), "local", List.of(provider),
        new dev.trainingjob.operator.remote.ssh.SshRemoteHosts(dev.trainingjob.operator.remote.RemoteSettings.defaults()));
    TrainingJob job = job("no-ssh", 60);
    operator.reconcileUntil(job, Phase.Bootstrapping);

    operator.clock.advance(Duration.ofSeconds(61));
    operator.reconcile(job);

    assertThat(Conditions.find(job.getStatus(), ConditionType.FAILED).reason).isEqualTo(Reason.PendingTimeout.name());
    assertThat(Conditions.find(job.getStatus(), ConditionType.FAILED).message).contains("Bootstrapping").contains("Waiting for SSH");
  }

  @Test
  void aMachineThatStopsAnsweringStillEndsAtTheRuntimeLimitAndIsReleased() throws Exception {
    var provider = new RecordingProvider("local");
    remote.runningProbes = Integer.MAX_VALUE;
    var operator = new SyncOperator(OperatorConfig.defaults(), "local", List.of(provider), remote);
    TrainingJob job = job("unreachable", 600);
    job.getSpec().limits.maxRuntimeSeconds = 120L;
    operator.reconcileUntil(job, Phase.Running);

    remote.probeFails = new IllegalStateException("connect timed out");
    operator.clock.advance(Duration.ofSeconds(60));
    try {
      operator.reconcile(job);
    } catch (IllegalStateException retried) {
      // within the limit: JOSDK retries with backoff
    }
    assertThat(job.getStatus().phase).isEqualTo(Phase.Running);

    operator.clock.advance(Duration.ofSeconds(61));
    operator.reconcile(job);
    var failed = Conditions.find(job.getStatus(), ConditionType.FAILED);
    assertThat(failed.reason).isEqualTo(Reason.MaxRuntimeExceeded.name());
    assertThat(failed.message).contains("did not answer").contains("connect timed out");
    assertThat(provider.count(job.ref(), "release")).isPositive();
  }

  @Test
  void aScriptThatRunsByTheTimeTheDeadlineIsSeenGoesOn() throws Exception {
    var provider = new RecordingProvider("local");
    var operator = new SyncOperator(OperatorConfig.defaults(), "local", List.of(provider), remote);
    TrainingJob job = job("just-in-time", 60);
    operator.reconcileUntil(job, Phase.Bootstrapping);

    // the operator was away past the deadline; meanwhile the script started
    operator.clock.advance(Duration.ofSeconds(120));
    operator.reconcile(job);

    assertThat(job.getStatus().phase).isEqualTo(Phase.Running);
    assertThat(Conditions.find(job.getStatus(), ConditionType.FAILED)).isNull();
  }

  @Test
  void withoutALimitAJobMayWaitAnHour() throws Exception {
    var provider = new RecordingProvider("local");
    provider.looksBeforeRunning = Integer.MAX_VALUE;
    var operator = new SyncOperator(OperatorConfig.defaults(), "local", List.of(provider), remote);
    TrainingJob job = SyncOperator.job("default-deadline");

    operator.reconcile(job);
    operator.clock.advance(Duration.ofSeconds(LimitsSpec.DEFAULT_MAX_PENDING_SECONDS - 1));
    operator.reconcile(job);
    assertThat(job.getStatus().phase).isEqualTo(Phase.Provisioning);
    operator.clock.advance(Duration.ofSeconds(2));
    operator.reconcile(job);
    assertThat(job.getStatus().phase).isEqualTo(Phase.Failed);
  }

  @Test
  void limitsBeyondTwentyEightDaysAreRefusedNamingTheField() {
    TrainingJob job = SyncOperator.job("forever");
    job.getSpec().limits = new LimitsSpec();
    job.getSpec().limits.maxRuntimeSeconds = Long.MAX_VALUE - 1;
    job.getSpec().limits.maxPendingSeconds = 0L;
    assertThat(SpecValidator.validate(job.getSpec())).extracting(SpecValidator.Violation::field)
        .containsExactlyInAnyOrder("spec.limits.maxRuntimeSeconds", "spec.limits.maxPendingSeconds");
  }
}
