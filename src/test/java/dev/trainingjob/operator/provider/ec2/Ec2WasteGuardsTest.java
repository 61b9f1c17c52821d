package dev.trainingjob.operator.provider.ec2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.LimitsSpec;
import dev.trainingjob.operator.api.OutputSpec;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.fake.ec2.Ec2Harness;
import dev.trainingjob.operator.fake.ec2.FakeInstance;
import dev.trainingjob.operator.status.Conditions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The guards against paying for a machine that does nothing, on EC2 instances through real SSH and the real probe: GPUs
 * idle (the instance's nvidia-smi says so) and a disk about to fill (its df says so) each stop their job through the stop
 * path: the script gets the notice, what it wrote is collected, the instance is terminated.
 */
class Ec2WasteGuardsTest extends WithEc2Operator {
  private static final Duration WAIT = Duration.ofSeconds(120);
  /** Writes its model, then trains until it is stopped; says so when the notice comes. */
  static final String SCRIPT = """
      import pathlib, signal, sys, time
      def noticed(signum, frame):
          print("got the stop notice", flush=True)
          sys.exit(143)
      signal.signal(signal.SIGTERM, noticed)
      pathlib.Path("model.txt").write_text("weights")
      print("training", flush=True)
      while True:
          time.sleep(0.1)
      """;

  private static TrainingJob job(String name) {
    TrainingJob job = Ec2Harness.job(name, SCRIPT);
    job.getSpec().output = new OutputSpec();
    job.getSpec().output.paths = List.of("model.txt");
    job.getSpec().limits = new LimitsSpec();
    return job;
  }

  private FakeInstance instanceOf(String name) {
    return h.fake.instance(h.get(name).getStatus().instance.id);
  }

  private boolean released(String name) {
    TrainingJob job = h.get(name);
    return job != null && job.getStatus() != null && job.getStatus().phase == Phase.Failed
        && Conditions.isTrue(job.getStatus(), ConditionType.RELEASED);
  }

  private boolean training(String name) {
    TrainingJob job = h.get(name);
    return job != null && job.getStatus() != null && job.getStatus().phase == Phase.Running && job.getStatus().logTail != null
        && job.getStatus().logTail.contains("training");
  }

  @Test
  void idleGpusAndALowDiskEachStopTheirJobWithItsOutputsCollected() throws Exception {
    TrainingJob idle = job("idle-gpu");
    idle.getSpec().limits.idleGpu = new LimitsSpec.IdleGpuSpec();
    idle.getSpec().limits.idleGpu.belowPercent = 10.0;
    idle.getSpec().limits.idleGpu.forSeconds = 2L;
    h.create(idle);
    TrainingJob disk = job("low-disk");
    disk.getSpec().limits.minFreeDiskGiB = 1.0;
    h.create(disk);

    await().atMost(WAIT).until(() -> training("idle-gpu") && training("low-disk"));
    assertThat(h.get("idle-gpu").getStatus().ending).as("87% busy: not idle").isNull();
    assertThat(h.get("low-disk").getStatus().ending).as("the real disk has room").isNull();
    instanceOf("idle-gpu").setGpuUtilization(3);
    instanceOf("low-disk").setDisk(10L * 1024 * 1024, 10L * 1024 * 1024 - 512 * 1024); // half a GiB free of 10

    await().atMost(WAIT).until(() -> released("idle-gpu") && released("low-disk"));
    for (String name : List.of("idle-gpu", "low-disk")) {
      var s = h.get(name).getStatus();
      String reason = name.equals("idle-gpu") ? "IdleGpu" : "DiskFull";
      assertThat(Conditions.find(s, ConditionType.FAILED).reason).isEqualTo(reason);
      assertThat(Conditions.find(s, ConditionType.GUARD_TRIPPED).reason).isEqualTo(reason);
      assertThat(s.logTail).as("the script got the notice").contains("got the stop notice");
      assertThat(tmp.resolve("outputs/default/" + name + "/model.txt")).as("its model was collected").hasContent("weights");
      assertThat(h.fake.instance(s.instance.id).state()).isEqualTo("terminated");
      assertThat(h.events(name)).anyMatch(e -> reason.equals(e.getReason()) && "Warning".equals(e.getType()));
    }
    assertThat(h.get("idle-gpu").getStatus().message).contains("every GPU (1) stayed below 10%");
    assertThat(h.get("low-disk").getStatus().message).contains("0.50 GiB free").contains("spec.limits.minFreeDiskGiB");
  }
}
