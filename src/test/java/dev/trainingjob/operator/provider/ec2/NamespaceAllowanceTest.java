package dev.trainingjob.operator.provider.ec2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.OutputSpec;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.fake.ec2.Ec2Harness;
import dev.trainingjob.operator.status.Conditions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two teams, one install, one account: what a namespace may use on AWS is the operator admin's
 * setting, not the spec's. A spec outside its namespace's allowance fails InvalidSpec naming the
 * field and what is allowed, before anything is launched; inside it, the instance runs with the
 * namespace's instance profile.
 */
class NamespaceAllowanceTest {
  @TempDir
  Path tmp;

  @Test
  void aNamespaceUsesOnlyItsProfileSubnetsAndPrefixAndAnUnnamedOneLaunchesNothing() throws Exception {
    try (Ec2Harness h = new Ec2Harness(tmp)) {
      h.fake.addSubnet("subnet-0a", "vpc-0a", true);
      h.fake.addSubnet("subnet-0b", "vpc-0b", true);
      h.config = h.config.with(c -> {
        c.ec2.instanceProfile = "install-wide";
        c.ec2.namespaces = NamespaceAllowance.parse("""
            {"default": {"instanceProfile": "tj-team-a", "subnets": ["subnet-0a"], "s3Prefix": "s3://ml/team-a/"}}""");
      });
      h.startOperator();
      h.client().namespaces().resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata()
          .withName("team-b").endMetadata().build()).create();

      TrainingJob otherSubnet = Ec2Harness.job("other-subnet", Ec2LifecycleTest.SCRIPT);
      otherSubnet.getSpec().compute.ec2.subnetId = "subnet-0b";
      h.create(otherSubnet);
      TrainingJob noSubnet = Ec2Harness.job("no-subnet", Ec2LifecycleTest.SCRIPT);
      h.create(noSubnet);
      TrainingJob otherPrefix = Ec2Harness.job("other-prefix", Ec2LifecycleTest.SCRIPT);
      otherPrefix.getSpec().compute.ec2.subnetId = "subnet-0a";
      otherPrefix.getSpec().output = new OutputSpec();
      otherPrefix.getSpec().output.s3Uri = "s3://ml/team-ab/run-1";
      h.create(otherPrefix);
      TrainingJob teamB = Ec2Harness.job("team-b-job", Ec2LifecycleTest.SCRIPT);
      h.client().resource(teamB).inNamespace("team-b").create();
      TrainingJob allowed = Ec2Harness.job("allowed", Ec2LifecycleTest.SCRIPT);
      allowed.getSpec().compute.ec2.subnetId = "subnet-0a";
      allowed.getSpec().output = new OutputSpec();
      allowed.getSpec().output.s3Uri = "s3://ml/team-a/run-1";
      h.create(allowed);

      assertThat(failedMessage(h, "default", "other-subnet")).contains("spec.compute.ec2.subnetId").contains("subnet-0b")
          .contains("[subnet-0a]");
      assertThat(failedMessage(h, "default", "no-subnet")).contains("spec.compute.ec2.subnetId").contains("one of [subnet-0a]");
      assertThat(failedMessage(h, "default", "other-prefix")).contains("spec.output.s3Uri").contains("s3://ml/team-a/");
      assertThat(failedMessage(h, "team-b", "team-b-job")).contains("namespace team-b may not launch").contains("[default]");

      await().atMost(Duration.ofSeconds(90)).until(() -> h.phase("allowed") == Phase.Succeeded);
      assertThat(h.fake.instances()).singleElement().satisfies(i -> {
        assertThat(i.launchParam("IamInstanceProfile.Name")).isEqualTo("tj-team-a");
        assertThat(i.tags.get(Ec2Tags.NAME)).isEqualTo("allowed");
      });
    }
  }

  /**
   * Admission looked at the spec once; the spec can change after. The launch asks again, and so does the upload (where
   * s3Uri reaches the machine): a prefix edited to another team's while the job waits is refused, nothing launched.
   */
  @Test
  void aPrefixEditedAfterAdmissionIsRefusedBeforeAnythingIsLaunchedOrUploaded() throws Exception {
    try (Ec2Harness h = new Ec2Harness(tmp)) {
      h.config = h.config.with(c -> c.ec2.namespaces = NamespaceAllowance.parse("""
          {"default": {"instanceProfile": "tj-team-a", "s3Prefix": "s3://ml/team-a/"}}"""));
      h.startOperator();
      h.fake.noCapacityFor("g5.xlarge");
      TrainingJob job = Ec2Harness.job("edited", Ec2LifecycleTest.SCRIPT);
      job.getSpec().output = new OutputSpec();
      job.getSpec().output.s3Uri = "s3://ml/team-a/run-1";
      h.create(job);
      await().atMost(Duration.ofSeconds(60)).until(() -> h.get("edited").getStatus() != null
          && Conditions.isTrue(h.get("edited").getStatus(), ConditionType.WAITING_FOR_CAPACITY));

      h.client().resources(TrainingJob.class).inNamespace(Ec2Harness.NS).withName("edited")
          .edit(j -> {
            j.getSpec().output.s3Uri = "s3://ml/team-b/run-1";
            return j;
          });
      h.fake.capacityReturns("g5.xlarge");
      await().atMost(Duration.ofSeconds(60)).until(() -> h.phase("edited") == Phase.Failed);
      var failed = Conditions.find(h.get("edited").getStatus(), ConditionType.FAILED);
      assertThat(failed.reason).isEqualTo("InvalidSpec");
      assertThat(failed.message).contains("spec.output.s3Uri").contains("s3://ml/team-b/run-1").contains("s3://ml/team-a/");
      assertThat(h.fake.instances()).as("refused at the launch after the wait: nothing ever ran").isEmpty();

      // the upload's own check, for an edit that lands after the launch
      TrainingJob running = h.get("edited");
      running.getSpec().output.s3Uri = "s3://ml/team-a/run-1";
      assertThat(h.provider.duties(running).outputUri()).isEqualTo("s3://ml/team-a/run-1");
      running.getSpec().output.s3Uri = "s3://ml/team-b/run-1";
      assertThatThrownBy(() -> h.provider.duties(running)).hasMessageContaining("spec.output.s3Uri");
    }
  }

  @Test
  void aNamespaceTheAllowancesLeaveOutNeverGetsTheOperatorsInstanceProfile() {
    var b = Ec2Settings.builder();
    b.instanceProfile = "install-wide";
    assertThat(b.build().instanceProfileFor("anyone")).as("no allowances: one team per install").isEqualTo("install-wide");
    b.namespaces = NamespaceAllowance.parse("""
        {"team-a": {"instanceProfile": "tj-team-a"}, "team-b": {"s3Prefix": "s3://ml/team-b/"}}""");
    assertThat(b.build().instanceProfileFor("team-a")).isEqualTo("tj-team-a");
    assertThat(b.build().instanceProfileFor("team-b")).as("an entry without a profile uses the operator's").isEqualTo("install-wide");
    assertThat(b.build().instanceProfileFor("team-c")).isNull();
  }

  @Test
  void anAllowanceWithATypoOrABadPrefixIsRefusedWhenTheOperatorStarts() {
    assertThatThrownBy(() -> NamespaceAllowance.parse("{\"team-a\": {\"subnet\": [\"subnet-0a\"]}}"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("subnet");
    assertThatThrownBy(() -> NamespaceAllowance.parse("{\"team-a\": {\"s3Prefix\": \"ml/team-a\"}}"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("s3Prefix");
    assertThatThrownBy(() -> NamespaceAllowance.parse("[\"team-a\"]")).isInstanceOf(IllegalArgumentException.class);
    assertThat(NamespaceAllowance.parse("")).isEmpty();
    NamespaceAllowance prefix = new NamespaceAllowance(null, null, "s3://ml/team-a");
    assertThat(prefix.allowsS3("s3://ml/team-a/x")).isTrue();
    assertThat(prefix.allowsS3("s3://ml/team-ab/x")).as("a prefix is a folder, not a string start").isFalse();
    assertThat(prefix.allowsS3("s3://ml/team-a/../team-b/x")).as("no dot segments: a client may normalise them").isFalse();
    assertThat(prefix.allowsS3("s3://ml/team-a/./x")).isFalse();
  }

  private static String failedMessage(Ec2Harness h, String namespace, String name) {
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      TrainingJob j = h.client().resources(TrainingJob.class).inNamespace(namespace).withName(name).get();
      return j.getStatus() != null && j.getStatus().phase == Phase.Failed;
    });
    TrainingJob j = h.client().resources(TrainingJob.class).inNamespace(namespace).withName(name).get();
    assertThat(Conditions.find(j.getStatus(), ConditionType.FAILED).reason).isEqualTo("InvalidSpec");
    assertThat(h.fake.requests("RunInstances")).noneMatch(r -> r.params().containsValue(j.getMetadata().getUid()));
    return j.getStatus().message;
  }
}
