package dev.trainingjob.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.ProgressStatus;
import dev.trainingjob.operator.api.TrainingJobStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatusRecorderTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private final StatusRecorder recorder = new StatusRecorder(Duration.ofSeconds(15));

  private static TrainingJobStatus running(double epoch) {
    TrainingJobStatus s = new TrainingJobStatus();
    s.phase = Phase.Running;
    s.message = "The script is running";
    s.progress = new ProgressStatus();
    s.progress.epoch = epoch;
    s.logTail = List.of("Epoch " + epoch);
    return s;
  }

  @Test
  void nothingChangedIsNeverWritten() {
    assertThat(recorder.shouldWrite("a", running(1), running(1), T0)).isFalse();
  }

  @Test
  void liveFieldsAloneAreWrittenOncePerIntervalPerJob() {
    assertThat(recorder.shouldWrite("a", running(1), running(2), T0)).as("the first write of a job").isTrue();
    assertThat(recorder.shouldWrite("a", running(2), running(3), T0.plusSeconds(14))).isFalse();
    assertThat(recorder.shouldWrite("b", running(2), running(3), T0.plusSeconds(14))).as("another job has its own clock").isTrue();
    assertThat(recorder.shouldWrite("a", running(2), running(3), T0.plusSeconds(15))).isTrue();
  }

  @Test
  void aPhaseOrMessageIsWrittenAtOnceEvenRightAfterAWrite() {
    assertThat(recorder.shouldWrite("a", running(1), running(2), T0)).isTrue();
    TrainingJobStatus finishing = running(3);
    finishing.phase = Phase.Finishing;
    assertThat(recorder.shouldWrite("a", running(2), finishing, T0.plusMillis(1))).isTrue();
    TrainingJobStatus newMessage = running(3);
    newMessage.message = "Preparing Python";
    assertThat(recorder.shouldWrite("a", running(3), newMessage, T0.plusMillis(2))).isTrue();
  }

  @Test
  void aForgottenJobStartsAfresh() {
    assertThat(recorder.shouldWrite("a", running(1), running(2), T0)).isTrue();
    recorder.forget("a");
    assertThat(recorder.shouldWrite("a", running(2), running(3), T0.plusSeconds(1))).isTrue();
  }

  @Test
  void aSnapshotIsNotChangedByChangesToTheOriginal() {
    TrainingJobStatus s = running(1);
    TrainingJobStatus copy = StatusRecorder.snapshot(s);
    s.progress.epoch = 5.0;
    assertThat(copy.progress.epoch).isEqualTo(1.0);
  }
}
