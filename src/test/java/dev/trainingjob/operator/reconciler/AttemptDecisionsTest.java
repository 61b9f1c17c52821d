package dev.trainingjob.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.api.Annotations;
import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.LimitsSpec;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.RetrySpec;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.status.Conditions;
import dev.trainingjob.operator.support.RecordingProvider;
import dev.trainingjob.operator.support.ScriptedRemoteHosts;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Retries and interruptions decided synchronously, with a clock that moves only when the test says so: the backoff is
 * waited out, the retry count is bounded, maxRuntimeSeconds counts every attempt together, and an interrupt that meets a
 * script that already ended lets its exit decide.
 */
class AttemptDecisionsTest {
  private final RecordingProvider provider = new RecordingProvider("local");
  private final ScriptedRemoteHosts remote = new ScriptedRemoteHosts();
  private final SyncOperator operator = new SyncOperator(OperatorConfig.defaults(), "local", List.of(provider), remote);

  private static TrainingJob retried(String name, int maxRetries, long backoffSeconds, Integer... codes) {
    TrainingJob job = SyncOperator.job(name);
    job.getSpec().retry = new RetrySpec();
    job.getSpec().retry.maxRetries = maxRetries;
    job.getSpec().retry.backoffSeconds = backoffSeconds;
    job.getSpec().retry.onExitCodes = List.of(codes);
    return job;
  }

  private long starts(TrainingJob job) {
    return remote.count(job.ref(), "startOnce");
  }

  @Test
  void aListedExitCodeIsRetriedOnTheSameMachineAfterTheBackoffAndTheRetryIsRecorded() throws Exception {
    remote.runningProbes = 1;
    remote.exitCodeOf = attempt -> attempt == 1 ? 3 : 0;
    TrainingJob job = retried("retry", 1, 30, 3);
    for (int i = 0; i < 50 && (job.getStatus() == null || job.getStatus().attempt == null || job.getStatus().attempt < 2); i++) {
      operator.reconcile(job);
    }
    assertThat(job.getStatus().phase).isEqualTo(Phase.Bootstrapping);

    var s = job.getStatus();
    assertThat(s.attempt).isEqualTo(2);
    assertThat(s.retries).isEqualTo(1);
    assertThat(s.attempts).extracting(a -> a.number + ":" + a.reason + ":" + a.exitCode).containsExactly("1:ExitCode:3");
    assertThat(s.exitCode).as("the next attempt has not exited").isNull();
    assertThat(s.message).contains("retry 1 of 1").contains("attempt 2 starts at");
    long ensured = provider.count(job.ref(), "ensure");
    for (int i = 0; i < 5; i++) {
      operator.reconcile(job);
    }
    assertThat(starts(job)).as("nothing starts during the backoff").isEqualTo(1);

    operator.clock.advance(Duration.ofSeconds(31));
    operator.reconcileUntil(job, Phase.Succeeded);
    assertThat(starts(job)).isEqualTo(2);
    assertThat(job.getStatus().attempt).isEqualTo(2);
    assertThat(job.getStatus().attempts).extracting(a -> a.reason).containsExactly("ExitCode", "Succeeded");
    assertThat(provider.count(job.ref(), "ensure")).as("on the same machine: none asked for").isEqualTo(ensured);
    assertThat(operator.events.reasons(job.ref())).contains(dev.trainingjob.operator.job.Reason.Retrying);
  }

  @Test
  void retriesStopAtMaxRetriesAndACodeNotListedIsNotRetried() throws Exception {
    remote.runningProbes = 1;
    remote.exitCodeOf = attempt -> 3;
    TrainingJob always = retried("always-3", 2, 0, 3);
    for (int i = 0; i < 200 && (always.getStatus() == null || always.getStatus().phase != Phase.Failed); i++) {
      operator.reconcile(always);
    }
    assertThat(always.getStatus().phase).isEqualTo(Phase.Failed);
    assertThat(always.getStatus().attempt).isEqualTo(3);
    assertThat(always.getStatus().retries).isEqualTo(2);
    assertThat(Conditions.find(always.getStatus(), ConditionType.FAILED).reason).isEqualTo("ScriptFailed");
    assertThat(always.getStatus().attempts).extracting(a -> a.reason).containsExactly("ExitCode", "ExitCode", "ScriptFailed");

    TrainingJob other = retried("other-code", 2, 0, 4);
    operator.reconcileUntil(other, Phase.Failed);
    assertThat(other.getStatus().attempt).isEqualTo(1);
    assertThat(other.getStatus().retries).isNull();
  }

  @Test
  void maxRuntimeSecondsCountsEveryAttemptFromTheFirstStart() throws Exception {
    remote.runningProbes = 1;
    remote.exitCodeOf = attempt -> attempt == 1 ? 3 : 0;
    TrainingJob job = retried("whole-job", 1, 0, 3);
    job.getSpec().limits = new LimitsSpec();
    job.getSpec().limits.maxRuntimeSeconds = 100L;
    remote.runningProbes = 1000;
    operator.reconcileUntil(job, Phase.Running);
    operator.clock.advance(Duration.ofSeconds(60));
    remote.runningProbes = 1; // attempt 1 exits 3 at 60 s
    operator.reconcileUntil(job, Phase.Bootstrapping);
    remote.runningProbes = 1000; // attempt 2 would run long
    operator.reconcileUntil(job, Phase.Running);
    assertThat(job.getStatus().attempt).isEqualTo(2);

    operator.clock.advance(Duration.ofSeconds(41));
    operator.reconcile(job);
    assertThat(job.getStatus().ending).as("stopped at 101 s of the job, 41 s into attempt 2").isNotNull();
    assertThat(job.getStatus().ending.reason).isEqualTo("MaxRuntimeExceeded");
  }

  @Test
  void anInterruptThatMeetsAScriptThatAlreadyEndedLetsItsExitDecide() throws Exception {
    remote.runningProbes = 1000;
    remote.exitCode = 0;
    TrainingJob job = SyncOperator.job("ended-first");
    operator.reconcileUntil(job, Phase.Running);
    job.getMetadata().setAnnotations(new HashMap<>());
    job.getMetadata().getAnnotations().put(Annotations.INTERRUPT, "now");
    operator.reconcile(job); // decided: written first
    assertThat(job.getStatus().ending.reason).isEqualTo("Interrupted");
    remote.runningProbes = 1; // the script exits 0 by itself before the notice reaches it
    operator.reconcileUntil(job, Phase.Succeeded);
    assertThat(job.getStatus().attempt).as("not run again").isEqualTo(1);
    assertThat(job.getStatus().interruptRequest).isEqualTo("now");
  }
}
