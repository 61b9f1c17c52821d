package dev.trainingjob.operator.provider.ec2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.LimitsSpec;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.fake.ec2.Ec2Harness;
import dev.trainingjob.operator.fake.ec2.FakeInstance;
import dev.trainingjob.operator.status.Conditions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The instance's own dead-man's switch, end to end: cloud-init arms it at boot (the fake runs the user
 * data's bootcmd), the operator's probes feed it, and an instance it powers off is terminated, as EC2
 * does with shutdown behaviour terminate. Heartbeat timeouts of seconds, checked every second.
 */
class Ec2GuardTest extends WithEc2Operator {
  static final Duration LONG = Duration.ofSeconds(90);

  @Test
  void anInstanceWhoseOperatorIsGoneBeforeItsFirstLoginPowersItselfOff() throws Exception {
    restartOperator(Duration.ofSeconds(5), Duration.ofMinutes(15));
    h.stopOperatorRightAfterTheLaunch(Ec2Harness.job("orphaned", Ec2LifecycleTest.SLEEPER));
    FakeInstance instance = h.fake.instances().get(0);

    await().atMost(LONG).until(() -> "terminated".equals(state(instance)));
    assertThat(instance.powerOffRequests()).singleElement(STRING).contains("none since the first boot");
    assertThat(instance.stateReason()).isEqualTo("Client.InstanceInitiatedShutdown");
    assertThat(instance.home().resolve(".trainingjob")).as("the operator never got there").doesNotExist();
    assertThat(instance.guard()).as("the guard went with the instance").isEmpty();
    assertThat(h.fake.forbiddenCommands()).isEmpty();
  }

  @Test
  void aRebootReArmsTheGuardAndTheHeartbeatStillCountsFromTheFirstBoot() throws Exception {
    restartOperator(Duration.ofSeconds(8), Duration.ofMinutes(15));
    h.stopOperatorRightAfterTheLaunch(Ec2Harness.job("rebooted", Ec2LifecycleTest.SLEEPER));
    FakeInstance instance = h.fake.instances().get(0);
    await().atMost(LONG).until(() -> "running".equals(state(instance)) && instance.guard().isPresent());
    long firstBoot = readLong(instance.guardState().resolve("armed-at"));
    long firstGuard = instance.guard().orElseThrow().pid();
    // a reboot a few seconds into the timeout, so counting from it would be seen
    await().atMost(LONG).until(() -> readLong(instance.guardState().resolve("checked-at")) >= firstBoot + 2);

    h.fake.reboot(instance.id);

    assertThat(ProcessHandle.of(firstGuard).filter(ProcessHandle::isAlive)).as("the reboot ended the first guard").isEmpty();
    await("armed again at boot").atMost(LONG).until(() -> instance.guard().filter(g -> g.pid() != firstGuard).isPresent());
    assertThat(Files.readString(instance.guardState().resolve("guard.log")).lines().filter(l -> l.contains(" armed: "))).hasSize(2);
    await().atMost(LONG).until(() -> "terminated".equals(state(instance)));
    assertThat(readLong(instance.guardState().resolve("armed-at"))).isEqualTo(firstBoot);
    assertThat(instance.powerOffRequests()).singleElement(STRING).endsWith("(none since the first boot at " + firstBoot + ")");
  }

  @Test
  void aJobWhoseOperatorKeepsProbingOutlivesManyHeartbeatTimeouts() throws Exception {
    // counted from the first boot until the first probe after the upload: it must hold the first login, the host key's
    // replacement and the upload, on a loaded build machine too
    Duration timeout = Duration.ofSeconds(15);
    restartOperator(timeout, Duration.ofMinutes(15));
    Path go = tmp.resolve("go");
    TrainingJob job = Ec2Harness.job("patient", """
        import os, sys, time
        print("waiting for the test", flush=True)
        while not os.path.exists(sys.argv[1]):
            time.sleep(0.2)
        print("done")
        """);
    job.getSpec().script.args = List.of(go.toString());
    h.create(job);
    await().atMost(LONG).until(() -> h.phase("patient") == Phase.Running);
    FakeInstance instance = h.fake.instances().get(0);
    long running = readLong(instance.guardState().resolve("checked-at"));

    // the guard looks every second; two timeouts go by while the operator probes
    await().atMost(LONG).until(() -> readLong(instance.guardState().resolve("checked-at")) >= running + 2 * timeout.toSeconds());
    assertThat(instance.powerOffRequests()).isEmpty();
    assertThat(state(instance)).isEqualTo("running");

    Files.writeString(go, "");
    await().atMost(LONG).until(() -> h.phase("patient") == Phase.Succeeded
        && Conditions.isTrue(h.get("patient").getStatus(), ConditionType.RELEASED));
    assertThat(instance.powerOffRequests()).as("released by the operator, not powered off by its guard").isEmpty();
    assertThat(state(instance)).isEqualTo("terminated");
    assertThat(h.fake.requests("TerminateInstances")).isNotEmpty();
  }

  @Test
  void theCeilingPowersTheInstanceOffWhateverTheHeartbeatSays() throws Exception {
    // a heartbeat that runs out long after the ceiling (30s, looked at every second); a ceiling of
    // maxRuntimeSeconds (4) + grace (1) from the driver's start
    restartOperator(Duration.ofSeconds(30), Duration.ofSeconds(1));
    TrainingJob job = Ec2Harness.job("capped", Ec2LifecycleTest.SLEEPER);
    job.getSpec().limits = new LimitsSpec();
    job.getSpec().limits.maxRuntimeSeconds = 4L;
    h.create(job);
    await().atMost(LONG).pollInterval(Duration.ofMillis(50)).until(() -> h.phase("capped") == Phase.Running);
    // gone before its own MaxRuntimeExceeded would stop the script: only the machine's guard is left to end it
    h.stopOperator();
    FakeInstance instance = h.fake.instances().get(0);
    long ceiling = readLong(instance.guardState().resolve("job/ceiling"));
    assertThat(instance.guardState().resolve("job/heartbeat")).as("fed by the probes").exists();

    await().atMost(LONG).until(() -> "terminated".equals(state(instance)));
    assertThat(instance.powerOffRequests()).singleElement(STRING).endsWith("the ceiling " + ceiling + " passed");
    assertThat(h.fake.forbiddenCommands()).isEmpty();
  }

  private void restartOperator(Duration heartbeatTimeout, Duration shutdownGrace) {
    h.stopOperator();
    h.config = h.config.with(c -> {
      c.ec2.heartbeatTimeout = heartbeatTimeout;
      c.ec2.shutdownGrace = shutdownGrace;
    });
    h.startOperator();
  }

  /** The instance's state as EC2 would describe it now (the fake moves instances on when asked). */
  private String state(FakeInstance instance) {
    return h.fake.instance(instance.id).state();
  }

  private static long readLong(Path file) throws IOException {
    String text = Files.exists(file) ? Files.readString(file).trim() : "";
    return text.isEmpty() ? 0 : Long.parseLong(text); // the guard may be writing it
  }
}
