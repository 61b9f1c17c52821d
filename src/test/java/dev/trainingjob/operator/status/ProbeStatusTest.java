package dev.trainingjob.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.Timings;
import dev.trainingjob.operator.api.TrainingJobStatus;
import dev.trainingjob.operator.remote.ProbeResult;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** A probe mirrored into status, without an API server. */
class ProbeStatusTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  private static ProbeResult running(List<String> log, Map<String, Object> progress, ProbeResult.Disk disk) {
    return new ProbeResult(ProbeResult.State.RUNNING, null, true, null, null, log, progress, disk, List.of(), 10.0);
  }

  private static TrainingJobStatus startedAt(Instant bootstrapped) {
    TrainingJobStatus s = new TrainingJobStatus();
    s.timings = new Timings();
    s.timings.bootstrapped = bootstrapped.toString();
    return s;
  }

  @Test
  void theProgressFileWinsOverTheLogAndGivesAnEta() {
    TrainingJobStatus s = startedAt(T0);
    ProbeStatus.apply(s, running(List.of("Epoch 9/10"), Map.of("epoch", 2, "epochs", 10, "loss", 0.5), null),
        Set.of(), T0.plusSeconds(100), 1L);

    assertThat(s.progress.source).isEqualTo("progressFile");
    assertThat(s.progress.percent).isEqualTo(20.0);
    assertThat(s.progress.summary).isEqualTo("20%");
    assertThat(s.progress.metrics).containsEntry("loss", 0.5);
    // 20% in 100 s: 400 s to go
    assertThat(s.progress.eta).isEqualTo(T0.plusSeconds(500).toString());
    assertThat(s.timings.firstProgress).isEqualTo(T0.plusSeconds(100).toString());
  }

  @Test
  void withoutAProgressFileTheLogIsParsed() {
    TrainingJobStatus s = startedAt(T0);
    ProbeStatus.apply(s, running(List.of("Epoch 3/10"), null, null), Set.of(), T0.plusSeconds(30), 1L);
    assertThat(s.progress.source).isEqualTo("log");
    assertThat(s.progress.epoch).isEqualTo(3.0);
  }

  @Test
  void theSameProgressSeenAgainKeepsItsTime() {
    TrainingJobStatus s = startedAt(T0);
    var probe = running(List.of("x"), Map.of("epoch", 2, "epochs", 10), null);
    ProbeStatus.apply(s, probe, Set.of(), T0.plusSeconds(10), 1L);
    ProbeStatus.apply(s, probe, Set.of(), T0.plusSeconds(20), 1L);
    assertThat(s.progress.updatedAt).isEqualTo(T0.plusSeconds(10).toString());
  }

  @Test
  void theLogTailIsBoundedAndMasksSecretValues() {
    List<String> log = new ArrayList<>(IntStream.range(0, 100).mapToObj(i -> "line " + i).toList());
    log.add("connecting with hunter2-token-value");
    log.add("x".repeat(2000));
    TrainingJobStatus s = startedAt(T0);

    ProbeStatus.apply(s, running(log, null, null), Set.of("hunter2-token-value"), T0, 1L);

    assertThat(s.logTail).hasSize(ProbeStatus.LOG_TAIL_LINES);
    assertThat(s.logTail).noneMatch(l -> l.contains("hunter2"));
    assertThat(s.logTail.get(s.logTail.size() - 1)).hasSize(ProbeStatus.LOG_LINE_CHARS + 1).endsWith("…");
    assertThat(String.join("\n", s.logTail).getBytes(java.nio.charset.StandardCharsets.UTF_8).length)
        .isLessThanOrEqualTo(ProbeStatus.LOG_TAIL_BYTES);
  }

  @Test
  void aNearlyFullDiskSetsDiskPressureAndRoomClearsIt() {
    TrainingJobStatus s = startedAt(T0);
    long gib = 1024L * 1024 * 1024;
    ProbeStatus.apply(s, running(List.of(), null, new ProbeResult.Disk(95 * gib, 100 * gib)), Set.of(), T0, 1L);
    assertThat(s.usage.diskUsedPercent).isEqualTo(95.0);
    assertThat(Conditions.find(s, ConditionType.DISK_PRESSURE).status).isEqualTo("True");
    assertThat(Conditions.find(s, ConditionType.DISK_PRESSURE).reason).isEqualTo("DiskAlmostFull");

    ProbeStatus.apply(s, running(List.of(), null, new ProbeResult.Disk(10 * gib, 100 * gib)), Set.of(), T0.plusSeconds(5), 1L);
    assertThat(Conditions.find(s, ConditionType.DISK_PRESSURE).status).isEqualTo("False");
    assertThat(Conditions.find(s, ConditionType.DISK_PRESSURE).lastTransitionTime).isEqualTo(T0.plusSeconds(5).toString());
  }

  @Test
  void gpusAreMirroredOnePerEntry() {
    TrainingJobStatus s = startedAt(T0);
    var probe = new ProbeResult(ProbeResult.State.RUNNING, null, true, null, null, List.of(), null, null,
        List.of(new ProbeResult.Gpu("NVIDIA A10G", 87.0, 12000L, 23028L), new ProbeResult.Gpu("NVIDIA A10G", null, 1L, 23028L)), 1.0);
    ProbeStatus.apply(s, probe, Set.of(), T0, 1L);
    assertThat(s.usage.gpus).hasSize(2);
    assertThat(s.usage.gpus.get(0).utilizationPercent).isEqualTo(87.0);
    assertThat(s.usage.gpus.get(1).utilizationPercent).isNull();
  }
}
