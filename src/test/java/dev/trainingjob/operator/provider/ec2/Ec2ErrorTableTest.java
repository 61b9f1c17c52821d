package dev.trainingjob.operator.provider.ec2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.api.ComputeSpec;
import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.fake.ec2.Ec2Harness;
import dev.trainingjob.operator.status.Conditions;
import io.fabric8.kubernetes.api.model.Event;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's table of EC2 errors, one test per row: the error as the real SDK receives it from
 * the fake endpoint, and the phase and reason the job ends in (or the type it falls back to).
 * One operator serves every row, as it serves every team; each row uses instance types of its own.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Ec2ErrorTableTest {
  Ec2Harness h;

  @BeforeAll
  void startOperator(@TempDir Path tmp) throws Exception {
    h = new Ec2Harness(tmp).startOperator();
  }

  @AfterEach
  void clearFaults() {
    h.fake.clearFaults();
  }

  @AfterAll
  void nothingIsLeftRunning() {
    try {
      h.client().resources(TrainingJob.class).inNamespace(Ec2Harness.NS).delete();
      await().atMost(Duration.ofSeconds(90)).until(() -> h.client().resources(TrainingJob.class).inNamespace(Ec2Harness.NS)
          .list().getItems().isEmpty());
      assertThat(h.fake.notTerminated()).isEmpty();
      assertThat(h.fake.groups()).isEmpty();
    } finally {
      h.close();
    }
  }

  // ---- capacity: the next type, then the list again (the waiting itself: Ec2FaultsTest)

  @Test
  void everyCapacityCodeMovesToTheNextType() {
    h.fake.failLaunches("c5.xlarge", 500, "UnfulfillableCapacity", "There is no Spot capacity available that matches your request.");
    h.fake.failLaunches("m5.large", 500, "InsufficientHostCapacity", "There is not enough capacity to fulfill your Dedicated Host request.");
    TrainingJob job = launched("capacity-codes", s -> {
      s.instanceType = "c5.xlarge";
      s.fallbackInstanceTypes = List.of("m5.large", "t3.medium");
    });
    assertThat(job.getStatus().instance.type).isEqualTo("t3.medium");
    assertThat(h.events("capacity-codes")).filteredOn(e -> "FallbackInstanceType".equals(e.getReason())).singleElement()
        .extracting(Event::getMessage).asString()
        .contains("c5.xlarge (UnfulfillableCapacity)").contains("m5.large (InsufficientHostCapacity)");
  }

  // ---- quotas

  @Test
  void aQuotaSkipsEveryTypeOfItsBucketAndLaunchesAnotherFamily() {
    h.fake.exhaustQuota("P");
    TrainingJob job = launched("quota-fallback", s -> {
      s.instanceType = "p4d.24xlarge";
      s.fallbackInstanceTypes = List.of("p5.48xlarge", "t3.medium");
    });
    assertThat(job.getStatus().instance.type).isEqualTo("t3.medium");
    // the P quota refuses every P type: p5 was never asked for
    assertThat(runInstancesOf("p5.48xlarge")).isZero();
  }

  @Test
  void anOnDemandVcpuQuotaWithNoOtherFamilyFailsNamingTheQuotaAndHowToRaiseIt() {
    h.fake.exhaustQuota("G and VT");
    TrainingJob job = failed("quota-g", "QuotaExceeded", s -> {
      s.instanceType = "g6e.xlarge";
      s.fallbackInstanceTypes = List.of("g4dn.xlarge");
    });
    assertThat(job.getStatus().message).contains("g6e.xlarge (VcpuLimitExceeded)").contains("Running On-Demand G and VT instances")
        .contains("L-DB2E81BA").contains("aws service-quotas request-service-quota-increase");
    assertThat(runInstancesOf("g4dn.xlarge")).isZero();
  }

  @Test
  void aSpotQuotaNamesTheSpotQuota() {
    h.fake.exhaustQuota("G and VT");
    TrainingJob job = failed("quota-spot", "QuotaExceeded", s -> {
      s.instanceType = "g6e.xlarge";
      s.spot = true;
    });
    assertThat(job.getStatus().message).contains("MaxSpotInstanceCountExceeded").contains("All G and VT Spot Instance Requests")
        .contains("L-3819A6DF");
  }

  @Test
  void anInstanceCountLimitIsAQuotaToo() {
    h.fake.failLaunches("m6i.large", 400, "InstanceLimitExceeded", "Your quota allows for 0 more running instance(s).");
    TrainingJob job = failed("instance-limit", "QuotaExceeded", s -> s.instanceType = "m6i.large");
    assertThat(job.getStatus().message).contains("InstanceLimitExceeded").contains("Running On-Demand Standard");
  }

  // ---- types that cannot run: the next type, else InvalidSpec

  @Test
  void aTypeTheRegionDoesNotOfferIsSkippedBeforeAnythingIsLaunched() {
    TrainingJob job = launched("unknown-then-known", s -> {
      s.instanceType = "g5.xlarg";
      s.fallbackInstanceTypes = List.of("r5.large");
    });
    assertThat(job.getStatus().instance.type).isEqualTo("r5.large");
    assertThat(runInstancesOf("g5.xlarg")).isZero();
    assertThat(h.events("unknown-then-known")).anySatisfy(e -> {
      assertThat(e.getReason()).isEqualTo("InstanceTypeUnavailable");
      assertThat(e.getMessage()).contains("g5.xlarg (not offered in this region)");
    });
  }

  @Test
  void onlyUnknownTypesIsAnInvalidSpecNamingTheField() {
    TrainingJob job = failed("unknown-type", "InvalidSpec", s -> s.instanceType = "g9.huge");
    assertThat(job.getStatus().message).contains("spec.compute.ec2.instanceType").contains("g9.huge (not offered in this region)");
    assertThat(h.fake.requests("RunInstances")).noneMatch(r -> "g9.huge".equals(r.params().get("InstanceType")));
  }

  @Test
  void anArmTypeForAnX86ImageIsAnInvalidSpec() {
    TrainingJob job = failed("arch-mismatch", "InvalidSpec", s -> s.instanceType = "g5g.xlarge");
    assertThat(job.getStatus().message).contains("spec.compute.ec2.instanceType").contains("g5g.xlarge (arm64").contains("x86_64");
    assertThat(runInstancesOf("g5g.xlarge")).isZero();
  }

  @Test
  void aTypeNotSupportedWhereItIsLaunchedEndsAsInvalidSpecWhenNothingElseIsAllowed() {
    h.fake.failLaunches("c5.xlarge", 400, "Unsupported",
        "Your requested instance type (c5.xlarge) is not supported in your requested Availability Zone (us-east-1e).");
    TrainingJob job = failed("unsupported", "InvalidSpec", s -> s.instanceType = "c5.xlarge");
    assertThat(job.getStatus().message).contains("spec.compute.ec2.instanceType").contains("c5.xlarge (Unsupported");
  }

  // ---- the spec's references

  @Test
  void anUnknownSubnetIsAnInvalidSpecBeforeAnythingIsLaunched() {
    TrainingJob job = failed("bad-subnet", "InvalidSpec", s -> {
      s.instanceType = "t3.medium";
      s.subnetId = "subnet-0doesnotexist";
    });
    assertThat(job.getStatus().message).contains("spec.compute.ec2.subnetId").contains("subnet-0doesnotexist");
    assertThat(launchesOf(job)).isZero();
  }

  @Test
  void anUnknownImageIsAnInvalidSpecBeforeAnythingIsLaunched() {
    TrainingJob job = failed("bad-image", "InvalidSpec", s -> {
      s.instanceType = "t3.medium";
      s.image = "ami-0doesnotexist";
    });
    assertThat(job.getStatus().message).contains("spec.compute.ec2.image").contains("ami-0doesnotexist");
    assertThat(launchesOf(job)).isZero();
  }

  @Test
  void anImageGoneBetweenAdmissionAndLaunchIsAnInvalidSpec() {
    h.fake.failLaunches("r5.large", 400, "InvalidAMIID.Unavailable", "The image id '[ami-0ubuntu2404fake]' is no longer available");
    TrainingJob job = failed("image-gone", "InvalidSpec", s -> s.instanceType = "r5.large");
    assertThat(job.getStatus().message).contains("spec.compute.ec2.image").contains("InvalidAMIID.Unavailable");
  }

  @Test
  void aVolumeSmallerThanTheImageSnapshotIsAnInvalidSpecBeforeAnythingIsLaunched() {
    TrainingJob job = failed("small-volume", "InvalidSpec", s -> {
      s.instanceType = "t3.medium";
      s.image = "dlami-pytorch";
      s.volumeSizeGiB = 20;
    });
    assertThat(job.getStatus().message).contains("spec.compute.ec2.volumeSizeGiB is 20").contains("at least 75 GiB");
    assertThat(launchesOf(job)).isZero();
  }

  @Test
  void aBlockDeviceMappingEc2RefusesAtLaunchIsAnInvalidSpecOnTheVolume() {
    h.fake.failLaunches("m5.large", 400, "InvalidBlockDeviceMapping", "Volume of size 8GB is smaller than snapshot 'snap-1', expect size >= 30GB");
    TrainingJob job = failed("volume-at-launch", "InvalidSpec", s -> s.instanceType = "m5.large");
    assertThat(job.getStatus().message).contains("spec.compute.ec2.volumeSizeGiB").contains("expect size >= 30GB");
  }

  // ---- permissions

  @Test
  void anUnauthorizedLaunchFailsWithTheHintToDecodeTheMessage() {
    h.fake.failLaunches("m6i.large", 403, "UnauthorizedOperation",
        "You are not authorized to perform this operation. Encoded authorization failure message: AbCdEf123");
    TrainingJob job = failed("unauthorized", "Unauthorized", s -> s.instanceType = "m6i.large");
    assertThat(job.getStatus().message).contains("RunInstances").contains("AbCdEf123")
        .contains("aws sts decode-authorization-message --encoded-message");
  }

  @Test
  void spotWithoutItsServiceLinkedRoleFailsWithTheCommandThatCreatesIt() {
    h.fake.failLaunches("r5.large", 403, "AuthFailure.ServiceLinkedRoleCreationNotPermitted",
        "The provided credentials do not have permission to create the service-linked role for EC2 Spot Instances.");
    TrainingJob job = failed("spot-role", "SpotRoleMissing", s -> {
      s.instanceType = "r5.large";
      s.spot = true;
    });
    assertThat(job.getStatus().message).contains("aws iam create-service-linked-role --aws-service-name spot.amazonaws.com");
  }

  // ---- a ClientToken already spent

  @Test
  void aTokenWhoseInstanceWasTerminatedIsFoundByTokenAndTheNextAttemptLaunches() {
    h.fake.dropTagsOfTerminatedAfter(Duration.ZERO); // the tag-filtered view cannot find it: only the token can
    h.fake.terminateOnLaunch("c5.xlarge");
    TrainingJob job = launched("token-terminated", s -> s.instanceType = "c5.xlarge");
    assertThat(job.getStatus().launch).isEqualTo(2);
    assertThat(job.getStatus().attempt).as("the script has not run yet: still its first attempt").isEqualTo(1);
    assertThat(h.fake.requests("RunInstances")).anyMatch(r -> "IdempotentInstanceTerminated".equals(r.errorCode()));
    assertThat(h.fake.requests("DescribeInstances")).anyMatch(r -> "client-token".equals(r.params().get("Filter.1.Name")));
    assertThat(h.events("token-terminated")).anySatisfy(e -> assertThat(e.getReason()).isEqualTo("NewLaunchAttempt"));
    // the new attempt's token is another: exactly one instance of the job is alive
    assertThat(h.fake.notTerminated()).filteredOn(i -> job.getMetadata().getUid().equals(i.tags.get(Ec2Tags.UID))).hasSize(1);
  }

  @Test
  void aTokenUsedEarlierWithOtherParametersAndGoneLaunchesAsTheNextAttempt() {
    h.fake.earlierLaunchWithOtherParameters("m5.large");
    TrainingJob job = launched("token-mismatch", s -> s.instanceType = "m5.large");
    assertThat(job.getStatus().launch).isEqualTo(2);
    assertThat(h.fake.requests("RunInstances")).anyMatch(r -> "IdempotentParameterMismatch".equals(r.errorCode()));
  }

  // ---- helpers

  private TrainingJob launched(String name, Consumer<ComputeSpec.Ec2Spec> edit) {
    TrainingJob job = Ec2Harness.job(name, Ec2LifecycleTest.SCRIPT);
    edit.accept(job.getSpec().compute.ec2);
    h.create(job);
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      TrainingJob now = h.get(name);
      return now.getStatus() != null && now.getStatus().instance != null && now.getStatus().instance.id != null
          && h.fake.instance(now.getStatus().instance.id) != null;
    });
    return h.get(name);
  }

  private TrainingJob failed(String name, String reason, Consumer<ComputeSpec.Ec2Spec> edit) {
    TrainingJob job = Ec2Harness.job(name, Ec2LifecycleTest.SCRIPT);
    edit.accept(job.getSpec().compute.ec2);
    h.create(job);
    await().atMost(Duration.ofSeconds(60)).until(() -> h.phase(name) == Phase.Failed
        && Conditions.isTrue(h.get(name).getStatus(), ConditionType.RELEASED));
    TrainingJob done = h.get(name);
    assertThat(Conditions.find(done.getStatus(), ConditionType.FAILED).reason).isEqualTo(reason);
    assertThat(h.fake.notTerminated()).noneMatch(i -> done.getMetadata().getUid().equals(i.tags.get(Ec2Tags.UID)));
    return done;
  }

  private long runInstancesOf(String type) {
    return h.fake.requests("RunInstances").stream().filter(r -> type.equals(r.params().get("InstanceType"))).count();
  }

  /** RunInstances requests that carried this job's uid tag. */
  private long launchesOf(TrainingJob job) {
    return h.fake.requests("RunInstances").stream().filter(r -> r.params().containsValue(job.getMetadata().getUid())).count();
  }
}
