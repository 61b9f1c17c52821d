package dev.trainingjob.operator.provider.ec2;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.fake.ec2.Ec2Harness;
import dev.trainingjob.operator.fake.ec2.FakeEc2;
import dev.trainingjob.operator.fake.ec2.FakeInstance;
import dev.trainingjob.operator.job.KubernetesEventRecorder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Instances nobody owns any more are terminated; everything else is left alone. */
class OrphanSweeperTest {
  @TempDir
  Path tmp;
  Ec2Harness h;

  @BeforeEach
  void start() throws Exception {
    h = new Ec2Harness(tmp); // no operator: the sweeper alone, against what is in the account
  }

  @AfterEach
  void stop() {
    h.close();
  }

  private FakeInstance tagged(String uid, String namespace, String name, Instant launched) {
    return h.fake.launchTagged(Map.of(Ec2Tags.UID, uid, Ec2Tags.NAMESPACE, namespace, Ec2Tags.NAME, name,
        Ec2Tags.MANAGED_BY, h.config.operatorId()), launched);
  }

  @Test
  void terminatesInstancesWhoseJobIsGoneAndLeavesTheOthersAlone() {
    TrainingJob live = h.create(Ec2Harness.job("alive", Ec2LifecycleTest.SCRIPT));
    Instant hourAgo = Instant.now().minus(Duration.ofHours(1));
    FakeInstance owned = tagged(live.getMetadata().getUid(), "default", "alive", hourAgo);
    FakeInstance orphan = tagged(UUID.randomUUID().toString(), "default", "deleted-while-down", hourAgo);
    FakeInstance young = tagged(UUID.randomUUID().toString(), "default", "just-launched", Instant.now());
    FakeInstance elsewhere = tagged(UUID.randomUUID().toString(), "not-watched", "other-team", hourAgo);
    FakeInstance otherOperator = h.fake.launchTagged(Map.of(Ec2Tags.UID, UUID.randomUUID().toString(),
        Ec2Tags.NAMESPACE, "default", Ec2Tags.NAME, "x", Ec2Tags.MANAGED_BY, "another-operator"), hourAgo);

    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    Ec2Provider provider = h.newProvider();
    // security groups: one of the live job, one left by a job deleted between CreateSecurityGroup and RunInstances
    TrainingJob ghost = Ec2Harness.job("ghost", Ec2LifecycleTest.SCRIPT);
    ghost.getMetadata().setUid(UUID.randomUUID().toString());
    String liveGroup = provider.groups().ensure(live, null);
    provider.groups().ensure(ghost, null);
    var sweeper = new OrphanSweeper(provider, h.client(), Set.of("default"), Duration.ofMinutes(15),
        new KubernetesEventRecorder(h.client()), meters, Clock.systemUTC());

    assertThat(sweeper.sweep()).containsExactly(orphan.id);
    assertThat(h.fake.groups()).extracting(FakeEc2.Group::id).containsExactly(liveGroup);

    assertThat(h.fake.instance(orphan.id).state()).isIn("shutting-down", "terminated");
    for (FakeInstance left : new FakeInstance[] {owned, young, elsewhere, otherOperator}) {
      assertThat(h.fake.instance(left.id).state()).as(left.tags.toString()).isEqualTo("running");
    }
    assertThat(meters.get("trainingjob.orphans.terminated").counter().count()).isEqualTo(1.0);
    assertThat(h.client().v1().events().inNamespace("default").list().getItems())
        .anyMatch(e -> e.getReason().equals("OrphanTerminated") && e.getMessage().contains(orphan.id)
            && e.getInvolvedObject().getName().equals("deleted-while-down"));

    // a second sweep finds nothing new to do
    assertThat(sweeper.sweep()).isEmpty();
  }

  @Test
  void aSecondInstanceOfALiveJobIsTerminatedAndItsOwnIsKept() {
    TrainingJob live = h.create(Ec2Harness.job("raced", Ec2LifecycleTest.SCRIPT));
    Instant hourAgo = Instant.now().minus(Duration.ofHours(1));
    FakeInstance own = tagged(live.getMetadata().getUid(), "default", "raced", hourAgo);
    FakeInstance second = tagged(live.getMetadata().getUid(), "default", "raced", hourAgo.plusSeconds(5));
    live.setStatus(new dev.trainingjob.operator.api.TrainingJobStatus());
    live.getStatus().instance = new dev.trainingjob.operator.api.InstanceStatus();
    live.getStatus().instance.id = own.id;
    h.client().resource(live).inNamespace("default").updateStatus();

    var sweeper = new OrphanSweeper(h.newProvider(), h.client(), Set.of(), Duration.ofMinutes(15),
        new KubernetesEventRecorder(h.client()), new SimpleMeterRegistry(), Clock.systemUTC());
    assertThat(sweeper.sweep()).containsExactly(second.id);
    assertThat(h.fake.instance(own.id).state()).isEqualTo("running");
    assertThat(h.client().v1().events().inNamespace("default").list().getItems())
        .anyMatch(e -> e.getReason().equals("DuplicateInstance") && e.getMessage().contains(own.id));
  }
}
