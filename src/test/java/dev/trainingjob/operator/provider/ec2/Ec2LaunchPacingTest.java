package dev.trainingjob.operator.provider.ec2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.fake.ec2.Ec2Harness;
import dev.trainingjob.operator.fake.ec2.FakeEc2;
import dev.trainingjob.operator.fake.ec2.UnreachableHosts;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many jobs launched at once against a fake EC2 that throttles as EC2 does: the operator paces its calls, so EC2 never
 * answers RequestLimitExceeded; the jobs waiting for their turn say so, and every one gets its instance.
 */
class Ec2LaunchPacingTest {
  static final int JOBS = 20;
  @TempDir
  Path tmp;
  Ec2Harness h;

  @BeforeEach
  void start() throws Exception {
    h = new Ec2Harness(tmp);
    // the point is the EC2 calls: the instances run without booting, and nobody logs in to them
    h.fake.bootless().throttleAsEc2();
    h.remoteHosts = new UnreachableHosts();
    h.config = h.config.with(c -> c.sshReadyTimeout = Duration.ofHours(1)); // they wait for SSH until the test ends
    h.startOperator();
  }

  @AfterEach
  void stop() {
    h.close();
  }

  @Test
  void aBurstOfLaunchesStaysInsideEc2sLimitsAndEveryJobGetsItsInstance() {
    IntStream.range(0, JOBS).forEach(i -> h.create(Ec2Harness.job("burst-" + i, "print('hi')\n")));
    Set<String> waitingSaid = ConcurrentHashMap.newKeySet();
    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100)).until(() -> {
      for (TrainingJob job : jobs()) {
        String message = job.getStatus() == null ? null : job.getStatus().message;
        if (message != null && message.startsWith("Waiting for a turn to launch")) {
          waitingSaid.add(job.getMetadata().getName());
          assertThat(job.getStatus().phase).isEqualTo(Phase.Provisioning);
          assertThat(message).contains("in this operator's launch line").contains("launch 2 a second");
        }
      }
      return jobs().stream().filter(j -> j.getStatus() != null && j.getStatus().instance != null).count() == JOBS
          && h.fake.instances().stream().filter(i -> "running".equals(i.state())).count() == JOBS;
    });

    assertThat(h.fake.requestLimitExceeded()).as("EC2 throttled none of the operator's calls").isEmpty();
    assertThat(h.fake.requests()).noneMatch(r -> "RequestLimitExceeded".equals(r.errorCode()));
    assertThat(jobs()).noneMatch(j -> j.getStatus().phase == Phase.Failed);
    assertThat(jobs().stream().map(j -> j.getStatus().instance.id).filter(Objects::nonNull).distinct()).hasSize(JOBS);
    assertThat(h.fake.requests("RunInstances")).hasSize(JOBS).allMatch(r -> r.status() == 200);
    assertThat(waitingSaid).as("jobs behind others in the line said why they waited").hasSizeGreaterThan(JOBS / 2);

    // releasing them all at once is paced as well (TerminateInstances, DeleteSecurityGroup)
    h.client().resources(TrainingJob.class).inNamespace(Ec2Harness.NS).delete();
    await().atMost(Duration.ofSeconds(90)).until(() -> jobs().isEmpty());
    assertThat(h.fake.notTerminated()).isEmpty();
    assertThat(h.fake.groups()).isEmpty();
    assertThat(h.fake.requestLimitExceeded()).isEqualTo(Map.of());
  }

  private List<TrainingJob> jobs() {
    return h.client().resources(TrainingJob.class).inNamespace(Ec2Harness.NS).list().getItems();
  }
}
