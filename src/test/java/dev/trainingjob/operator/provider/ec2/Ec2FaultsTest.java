package dev.trainingjob.operator.provider.ec2;

import dev.trainingjob.operator.api.ConditionType;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.fake.ec2.Ec2Harness;
import dev.trainingjob.operator.fake.ec2.FakeEc2;
import dev.trainingjob.operator.status.Conditions;
import io.fabric8.kubernetes.api.model.Event;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What EC2 does wrong, and what the operator does about it. */
class Ec2FaultsTest extends WithEc2Operator {

  @Test
  void aThrottlingStormSlowsTheJobButItSucceedsWithinTheSdkRetryPolicy() {
    h.fake.throttleNext(8, action -> true);
    h.create(Ec2Harness.job("throttled", Ec2LifecycleTest.SCRIPT));
    await().atMost(Duration.ofSeconds(120)).until(() -> h.phase("throttled") == Phase.Succeeded
        && Conditions.isTrue(h.get("throttled").getStatus(), ConditionType.RELEASED));

    List<FakeEc2.Request> throttled = h.fake.requests().stream().filter(r -> "RequestLimitExceeded".equals(r.errorCode())).toList();
    assertThat(throttled).hasSize(8);
    // every request carried the SDK's attempt header, and no call went beyond the standard policy's 3 attempts
    assertThat(h.fake.requests()).filteredOn(r -> !r.action().equals("GetParameter"))
        .allSatisfy(r -> {
          assertThat(r.maxAttempts()).isEqualTo(3);
          assertThat(r.attempt()).isBetween(1, 3);
        });
    assertThat(h.fake.requests()).anyMatch(r -> r.attempt() > 1);
    assertThat(h.fake.instances()).hasSize(1);
    assertThat(h.fake.notTerminated()).isEmpty();
  }

  @Test
  void aLaunchThrottledBeyondTheSdkRetriesWaitsForAnotherTurnAndSaysWhy() {
    // another client of the account empties the RunInstances bucket: every attempt of the SDK's policy is refused
    h.fake.throttleNext(3, "RunInstances"::equals);
    h.create(Ec2Harness.job("crowded", Ec2LifecycleTest.SCRIPT));
    await().atMost(Duration.ofSeconds(60)).until(() -> h.get("crowded").getStatus() != null
        && h.get("crowded").getStatus().message != null && h.get("crowded").getStatus().message.contains("RequestLimitExceeded"));
    TrainingJob waiting = h.get("crowded");
    assertThat(waiting.getStatus().phase).isEqualTo(Phase.Provisioning);
    assertThat(waiting.getStatus().message).contains("another client of the account").contains("launching again in 10s");
    assertThat(h.fake.instances()).isEmpty();

    await().atMost(Duration.ofSeconds(60)).until(() -> h.phase("crowded") == Phase.Succeeded);
    assertThat(h.fake.requests("RunInstances")).extracting(FakeEc2.Request::errorCode)
        .containsExactly("RequestLimitExceeded", "RequestLimitExceeded", "RequestLimitExceeded", null);
  }

  @Test
  void noCapacityForTheTypeMeansTheNextFallbackIsLaunchedAndNamed() {
    h.fake.noCapacityFor("g5.xlarge");
    TrainingJob job = Ec2Harness.job("fallback", Ec2LifecycleTest.SCRIPT);
    job.getSpec().compute.ec2.fallbackInstanceTypes = List.of("g5.2xlarge", "g6.xlarge");
    h.create(job);
    await().atMost(Duration.ofSeconds(90)).until(() -> h.phase("fallback") == Phase.Succeeded);

    assertThat(h.get("fallback").getStatus().instance.type).isEqualTo("g5.2xlarge");
    assertThat(h.fake.instances()).hasSize(1).allMatch(i -> i.instanceType.equals("g5.2xlarge"));
    assertThat(h.events("fallback")).filteredOn(e -> e.getReason().equals("FallbackInstanceType"))
        .singleElement().extracting(Event::getMessage).asString()
        .contains("g5.2xlarge").contains("g5.xlarge (InsufficientInstanceCapacity)");
    assertThat(h.fake.requests("RunInstances")).extracting(r -> r.params().get("InstanceType"))
        .doesNotContain("g6.xlarge");
    // AWS API calls are counted by action and outcome
    assertThat(h.meters.get("trainingjob.aws.api.calls").tags("action", "RunInstances", "outcome", "InsufficientInstanceCapacity")
        .counter().count()).isEqualTo(1.0);
    assertThat(h.meters.get("trainingjob.aws.api.calls").tags("action", "RunInstances", "outcome", "success").counter().count())
        .isEqualTo(1.0);
  }

  @Test
  void whenNoTypeHasCapacityTheJobWaitsSaysSinceWhenAndLaunchesWhenCapacityReturns() {
    h.fake.noCapacityFor("g5.xlarge");
    h.fake.noCapacityFor("g5.2xlarge");
    TrainingJob job = Ec2Harness.job("waits", Ec2LifecycleTest.SCRIPT);
    job.getSpec().compute.ec2.fallbackInstanceTypes = List.of("g5.2xlarge");
    h.create(job);
    // the whole list is tried again (the SDK's own retries of one call have attempt > 1), once the job says it waits
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      TrainingJob j = h.get("waits");
      return j.getStatus() != null && Conditions.isTrue(j.getStatus(), ConditionType.WAITING_FOR_CAPACITY)
          && h.fake.requests("RunInstances").stream().filter(r -> "g5.xlarge".equals(r.params().get("InstanceType"))
              && r.attempt() == 1).count() >= 3;
    });
    TrainingJob waiting = h.get("waits");
    assertThat(waiting.getStatus().phase).isEqualTo(Phase.Provisioning);
    assertThat(Conditions.find(waiting.getStatus(), ConditionType.WAITING_FOR_CAPACITY)).satisfies(c -> {
      assertThat(c.status).isEqualTo("True");
      assertThat(c.reason).isEqualTo("NoCapacity");
      assertThat(c.lastTransitionTime).isNotNull();
      assertThat(waiting.getStatus().message).startsWith("Waiting for capacity since " + c.lastTransitionTime)
          .contains("g5.xlarge (InsufficientInstanceCapacity)").contains("g5.2xlarge (InsufficientInstanceCapacity)");
    });
    assertThat(h.fake.instances()).isEmpty();
    // one Warning says it waits, not one per pass
    assertThat(h.events("waits")).filteredOn(e -> "NoCapacity".equals(e.getReason())).hasSize(1);

    h.fake.capacityReturns("g5.2xlarge");
    await().atMost(Duration.ofSeconds(90)).until(() -> h.phase("waits") == Phase.Succeeded);
    assertThat(h.get("waits").getStatus().instance.type).isEqualTo("g5.2xlarge");
    assertThat(Conditions.find(h.get("waits").getStatus(), ConditionType.WAITING_FOR_CAPACITY).status).isEqualTo("False");
  }

  @Test
  void capacityThatNeverReturnsEndsAtThePendingDeadlineAndTheSecurityGroupIsRemoved() {
    h.fake.noCapacityFor("g5.xlarge");
    TrainingJob job = Ec2Harness.job("no-capacity", Ec2LifecycleTest.SCRIPT);
    job.getSpec().limits = new dev.trainingjob.operator.api.LimitsSpec();
    job.getSpec().limits.maxPendingSeconds = 5L;
    h.create(job);
    await().atMost(Duration.ofSeconds(60)).until(() -> h.phase("no-capacity") == Phase.Failed
        && Conditions.isTrue(h.get("no-capacity").getStatus(), ConditionType.RELEASED));

    TrainingJob failed = h.get("no-capacity");
    assertThat(Conditions.find(failed.getStatus(), ConditionType.FAILED).reason).isEqualTo("PendingTimeout");
    assertThat(failed.getStatus().message).contains("maxPendingSeconds").contains("g5.xlarge (InsufficientInstanceCapacity)");
    assertThat(h.fake.instances()).isEmpty();
    assertThat(h.fake.groups()).isEmpty();
  }

  @Test
  void securityGroupDeletionIsRetriedWhileTheInterfaceDetaches() {
    h.fake.dependencyViolations(3);
    h.create(Ec2Harness.job("detaching", Ec2LifecycleTest.SCRIPT));
    await().atMost(Duration.ofSeconds(90)).until(() -> h.phase("detaching") == Phase.Succeeded
        && Conditions.isTrue(h.get("detaching").getStatus(), ConditionType.RELEASED));

    assertThat(h.fake.requests("DeleteSecurityGroup")).filteredOn(r -> "DependencyViolation".equals(r.errorCode())).hasSize(3);
    assertThat(h.fake.groups()).isEmpty();
  }

  @Test
  void oneDescribeInstancesPerIntervalServesEveryJob() {
    h.fake.pageSize(2); // three jobs' instances take two pages: the paginator follows nextToken
    Instant began = Instant.now();
    for (String name : List.of("batch-a", "batch-b", "batch-c")) {
      h.create(Ec2Harness.job(name, Ec2LifecycleTest.SCRIPT));
    }
    await().atMost(Duration.ofSeconds(120)).until(() -> List.of("batch-a", "batch-b", "batch-c").stream()
        .allMatch(n -> h.phase(n) == Phase.Succeeded && Conditions.isTrue(h.get(n).getStatus(), ConditionType.RELEASED)));
    Duration elapsed = Duration.between(began, Instant.now());

    List<FakeEc2.Request> listings = h.fake.requests("DescribeInstances").stream()
        .filter(r -> !r.params().containsKey("InstanceId.1")).toList();
    List<FakeEc2.Request> firstPages = listings.stream().filter(r -> !r.params().containsKey("NextToken") && r.attempt() == 1).toList();
    // the view is shared: never more listings than intervals, however many jobs ask
    long intervals = elapsed.toMillis() / h.config.pollInterval().toMillis() + 1;
    assertThat((long) firstPages.size()).isLessThanOrEqualTo(intervals);
    // every listing asks for this operator's instances, not for one job's
    assertThat(listings).allSatisfy(r -> assertThat(r.params()).containsEntry("Filter.1.Name", "tag:" + Ec2Tags.MANAGED_BY)
        .doesNotContainValue("tag:" + Ec2Tags.UID));
    assertThat(listings).anyMatch(r -> r.params().containsKey("NextToken"));
    assertThat(h.fake.instances()).hasSize(3);
  }
}
