package dev.trainingjob.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJobStatus;
import dev.trainingjob.operator.job.Reason;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class LifecycleTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  @Test
  void theProgressingConditionFollowsThePhaseAndKeepsItsTransitionTime() {
    TrainingJobStatus s = new TrainingJobStatus();
    assertThat(Lifecycle.moveTo(s, Phase.Provisioning, Reason.Provisioning, "asking", 1L, T0)).isTrue();
    assertThat(Lifecycle.moveTo(s, Phase.Running, Reason.Running, "runs", 1L, T0.plusSeconds(10))).isTrue();

    var progressing = Conditions.find(s, ConditionType.PROGRESSING);
    assertThat(progressing.status).isEqualTo("True");
    assertThat(progressing.reason).isEqualTo("Running");
    assertThat(progressing.lastTransitionTime).as("still True: no transition").isEqualTo(T0.toString());
    assertThat(s.finishedAt).isNull();
    assertThat(Lifecycle.moveTo(s, Phase.Running, Reason.Running, "still runs", 1L, T0.plusSeconds(20))).isFalse();
  }

  @Test
  void aFailureSetsFailedAndStopsProgressingOnceWithTheFirstFinishTime() {
    TrainingJobStatus s = new TrainingJobStatus();
    Lifecycle.moveTo(s, Phase.Running, Reason.Running, "runs", 2L, T0);
    Lifecycle.moveTo(s, Phase.Failed, Reason.ScriptFailed, "exited 3", 2L, T0.plusSeconds(5));
    Lifecycle.moveTo(s, Phase.Failed, Reason.ScriptFailed, "exited 3", 2L, T0.plusSeconds(9));

    assertThat(s.phase).isEqualTo(Phase.Failed);
    assertThat(Conditions.find(s, ConditionType.PROGRESSING).status).isEqualTo("False");
    assertThat(Conditions.find(s, ConditionType.PROGRESSING).lastTransitionTime).isEqualTo(T0.plusSeconds(5).toString());
    assertThat(Conditions.find(s, ConditionType.FAILED).reason).isEqualTo("ScriptFailed");
    assertThat(Conditions.find(s, ConditionType.FAILED).observedGeneration).isEqualTo(2L);
    assertThat(Conditions.find(s, ConditionType.COMPLETE)).isNull();
    assertThat(s.finishedAt).isEqualTo(T0.plusSeconds(5).toString());
  }

  @Test
  void anEndedJobNoLongerWaitsForCapacity() {
    TrainingJobStatus s = new TrainingJobStatus();
    Lifecycle.moveTo(s, Phase.Provisioning, Reason.Provisioning, "asking", 1L, T0);
    Conditions.set(s, ConditionType.WAITING_FOR_CAPACITY, true, Reason.NoCapacity, "no capacity for g5.xlarge", 1L, T0.toString());
    Lifecycle.moveTo(s, Phase.Failed, Reason.PendingTimeout, "not running within 3600s", 1L, T0.plusSeconds(3600));

    var waiting = Conditions.find(s, ConditionType.WAITING_FOR_CAPACITY);
    assertThat(waiting.status).isEqualTo("False");
    assertThat(waiting.reason).isEqualTo("PendingTimeout");
  }

  @Test
  void releaseRecordsItsTimeOnlyWhenSomethingWasReleased() {
    TrainingJobStatus s = new TrainingJobStatus();
    Lifecycle.released(s, false, Reason.Releasing, "waiting", 1L, T0);
    assertThat(Conditions.isTrue(s, ConditionType.RELEASED)).isFalse();
    Lifecycle.released(s, true, Reason.Released, "done", 1L, T0.plusSeconds(3));
    assertThat(s.timings.released).isEqualTo(T0.plusSeconds(3).toString());

    TrainingJobStatus never = new TrainingJobStatus();
    Lifecycle.released(never, true, Reason.NothingToRelease, "nothing", 1L, T0);
    assertThat(never.timings).isNull();
    assertThat(Conditions.isTrue(never, ConditionType.RELEASED)).isTrue();
  }
}
