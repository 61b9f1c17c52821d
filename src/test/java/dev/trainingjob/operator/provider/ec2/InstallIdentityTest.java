package dev.trainingjob.operator.provider.ec2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.InstanceStatus;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.api.TrainingJobStatus;
import dev.trainingjob.operator.fake.ec2.Ec2Harness;
import dev.trainingjob.operator.fake.ec2.FakeEc2;
import dev.trainingjob.operator.fake.ec2.FakeInstance;
import dev.trainingjob.operator.job.KubernetesEventRecorder;
import dev.trainingjob.operator.status.Conditions;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two installs in one AWS account, each with its own operator id and its own Kubernetes API, so neither knows the
 * other's jobs: to each, the other's instances look like orphans. Each sees, sweeps and releases only what carries its
 * own id.
 */
class InstallIdentityTest {
  static final Duration WAIT = Duration.ofSeconds(90);
  @TempDir
  Path tmp;
  Ec2Harness a;
  Ec2Harness b;

  @AfterEach
  void stop() {
    if (b != null) {
      b.close();
    }
    if (a != null) {
      a.close(); // the fake's owner goes last
    }
  }

  private void startBoth() throws Exception {
    a = new Ec2Harness(tmp.resolve("a"), "team-a").startOperator();
    b = Ec2Harness.sharing(a.fake, tmp.resolve("b"), "team-b").startOperator();
  }

  /** A sweeper as the operator runs it, with no grace at all: anything it judges an orphan goes at once. */
  private static OrphanSweeper sweeper(Ec2Harness h) {
    return new OrphanSweeper(h.provider, h.client(), Set.of(), Duration.ZERO, new KubernetesEventRecorder(h.client()),
        new SimpleMeterRegistry(), Clock.systemUTC());
  }

  private static FakeInstance instanceOf(Ec2Harness h, String name) {
    return h.fake.instance(h.get(name).getStatus().instance.id);
  }

  private static boolean released(Ec2Harness h, String name) {
    TrainingJob job = h.get(name);
    return job == null || job.getStatus() != null && Conditions.isTrue(job.getStatus(), ConditionType.RELEASED);
  }

  @Test
  void neitherInstallTouchesTheOthersInstancesOrSecurityGroups() throws Exception {
    startBoth();
    a.create(Ec2Harness.job("train", Ec2LifecycleTest.SLEEPER));
    b.create(Ec2Harness.job("train", Ec2LifecycleTest.SLEEPER));
    await().atMost(WAIT).until(() -> a.phase("train") == Phase.Running && b.phase("train") == Phase.Running);
    FakeInstance ofA = instanceOf(a, "train");
    FakeInstance ofB = instanceOf(b, "train");
    // everything each made carries its own id
    assertThat(ofA.tags).containsEntry(Ec2Tags.MANAGED_BY, "team-a");
    assertThat(ofA.volumeTags).containsEntry(Ec2Tags.MANAGED_BY, "team-a");
    assertThat(ofB.tags).containsEntry(Ec2Tags.MANAGED_BY, "team-b");
    assertThat(ofB.volumeTags).containsEntry(Ec2Tags.MANAGED_BY, "team-b");
    assertThat(a.fake.groups()).extracting(g -> g.tags().get(Ec2Tags.MANAGED_BY)).containsExactlyInAnyOrder("team-a", "team-b");

    // a group B left behind for a job that is gone: B's to clean up, not A's
    TrainingJob ghost = Ec2Harness.job("ghost", Ec2LifecycleTest.SLEEPER);
    ghost.getMetadata().setUid(UUID.randomUUID().toString());
    String ghostGroup = b.provider.groups().ensure(ghost, null);

    // each view shows its own instance only, and A's sweeper, with no grace, leaves B's running instance and group alone
    assertThat(a.provider.view().fresh().all()).extracting(InstanceView.Instance::id).containsExactly(ofA.id);
    assertThat(b.provider.view().fresh().all()).extracting(InstanceView.Instance::id).containsExactly(ofB.id);
    assertThat(sweeper(a).sweep()).isEmpty();
    assertThat(a.fake.groups()).extracting(FakeEc2.Group::id).contains(ghostGroup);
    assertThat(sweeper(b).sweep()).isEmpty();
    assertThat(a.fake.groups()).extracting(FakeEc2.Group::id).doesNotContain(ghostGroup);
    assertThat(a.fake.instance(ofA.id).state()).isEqualTo("running");
    assertThat(a.fake.instance(ofB.id).state()).isEqualTo("running");

    // A's job ends: A releases its own instance and group, and B's keep running through both sweepers
    a.client().resource(a.get("train")).delete();
    await().atMost(WAIT).until(() -> a.get("train") == null);
    assertThat(a.fake.instance(ofA.id).state()).isIn("shutting-down", "terminated");
    assertThat(sweeper(a).sweep()).isEmpty();
    assertThat(sweeper(b).sweep()).isEmpty();
    assertThat(a.fake.instance(ofB.id).state()).isEqualTo("running");
    assertThat(b.phase("train")).isEqualTo(Phase.Running);
    assertThat(a.fake.groups()).extracting(g -> g.tags().get(Ec2Tags.MANAGED_BY)).containsExactly("team-b");
  }

  /**
   * B's API holds a job whose status names A's instance (a restored backup, a copy from A's cluster): B neither probes
   * nor releases it; to B that instance is not there.
   */
  @Test
  void aStatusThatNamesAnotherInstallsInstanceReleasesNothingOfIt() throws Exception {
    a = new Ec2Harness(tmp.resolve("a"), "team-a").startOperator();
    a.create(Ec2Harness.job("train", Ec2LifecycleTest.SLEEPER));
    await().atMost(WAIT).until(() -> a.phase("train") == Phase.Running);
    FakeInstance ofA = instanceOf(a, "train");

    // the copy is in B's API, status and all, before B's operator first looks at it
    b = Ec2Harness.sharing(a.fake, tmp.resolve("b"), "team-b");
    jobWhoseStatusNames(b, "copied", ofA);
    b.startOperator();

    await().atMost(WAIT).until(() -> released(b, "copied"));
    assertThat(a.fake.instance(ofA.id).state()).isEqualTo("running");
    assertThat(a.fake.requests("TerminateInstances")).isEmpty();
    assertThat(a.phase("train")).isEqualTo(Phase.Running);
  }

  /**
   * Within one install too: a job whose status names another job's instance (whoever may write status, a restored
   * backup) releases nothing of it; an instance is released by the job whose uid it carries.
   */
  @Test
  void aStatusThatNamesAnotherJobsInstanceInTheSameInstallReleasesNothingOfIt() throws Exception {
    a = new Ec2Harness(tmp.resolve("a"), "team-a").startOperator();
    a.create(Ec2Harness.job("train", Ec2LifecycleTest.SLEEPER));
    await().atMost(WAIT).until(() -> a.phase("train") == Phase.Running);
    FakeInstance victim = instanceOf(a, "train");

    a.stopOperator();
    jobWhoseStatusNames(a, "thief", victim);
    a.startOperator();

    await().atMost(WAIT).until(() -> released(a, "thief"));
    assertThat(a.fake.instance(victim.id).state()).isEqualTo("running");
    assertThat(a.fake.requests("TerminateInstances")).isEmpty();
    assertThat(a.phase("train")).isEqualTo(Phase.Running);
  }

  /** A failed job in {@code h}'s API whose status names {@code instance}, launched an hour ago, as a copy would carry it. */
  private static void jobWhoseStatusNames(Ec2Harness h, String name, FakeInstance instance) {
    TrainingJob copy = h.create(Ec2Harness.job(name, Ec2LifecycleTest.SLEEPER));
    copy.setStatus(new TrainingJobStatus());
    copy.getStatus().phase = Phase.Failed;
    copy.getStatus().provider = "ec2";
    copy.getStatus().attempt = 1;
    copy.getStatus().instance = new InstanceStatus();
    copy.getStatus().instance.id = instance.id;
    copy.getStatus().instance.type = "g5.xlarge";
    copy.getStatus().instance.launchedAt = Instant.now().minus(Duration.ofHours(1)).toString();
    h.client().resource(copy).updateStatus();
  }

  @Test
  void noProviderStartsWithAnIdThatCouldNameMoreThanOneInstall() throws Exception {
    a = new Ec2Harness(tmp.resolve("a"));
    for (String id : new String[] {null, "", "team-*", "team-?", "Team-A", OperatorId.FORMER_DEFAULT}) {
      a.config = a.config.with(c -> c.operatorId = id);
      assertThatThrownBy(() -> a.newProvider()).as(String.valueOf(id)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("operator id");
    }
    assertThat(a.fake.requests()).isEmpty();
  }
}
