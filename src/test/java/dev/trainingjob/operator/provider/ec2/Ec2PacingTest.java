package dev.trainingjob.operator.provider.ec2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainingjob.operator.support.TestClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ec2.model.DescribeInstancesRequest;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.RunInstancesRequest;
import software.amazon.awssdk.services.ec2.model.TerminateInstancesRequest;

/** The operator's side of EC2's API limits: which bucket a call draws on, and how fast the install lets calls go. */
class Ec2PacingTest {
  final TestClock clock = new TestClock(Instant.parse("2026-11-27T10:00:00Z"));

  @Test
  void awsDefaultsAreDocumentedPerActionAndPacedWithTwoSecondsOfHeadroom() {
    Ec2ApiLimits aws = Ec2ApiLimits.AWS_DEFAULTS;
    assertThat(aws.request("RunInstances", false)).hasToString("5/2");
    assertThat(aws.resources("RunInstances")).hasValueSatisfying(b -> assertThat(b).hasToString("1000/2"));
    assertThat(aws.request("TerminateInstances", false)).hasToString("100/5");
    assertThat(aws.resources("TerminateInstances")).hasValueSatisfying(b -> assertThat(b).hasToString("1000/20"));
    assertThat(aws.request("DescribeInstances", false)).hasToString("100/20");
    assertThat(aws.request("DescribeInstances", true)).hasToString("50/10");
    assertThat(aws.request("DescribeImages", true)).hasToString("100/20");
    assertThat(aws.request("AuthorizeSecurityGroupIngress", false)).hasToString("50/5");
    assertThat(aws.request("CreateSecurityGroup", false)).hasToString("50/5");
    assertThat(aws.resources("CreateSecurityGroup")).isEmpty();
    // what the install allows itself: EC2 may refill in whole seconds, and calls arrive a little after they were paced
    assertThat(aws.paced(aws.request("RunInstances", false))).hasToString("1/2");
    assertThat(aws.paced(aws.request("DescribeInstances", false))).hasToString("60/20");
    Ec2ApiLimits half = Ec2ApiLimits.parse("", 0.5);
    assertThat(half.paced(half.request("RunInstances", false))).hasToString("1/1");
    assertThat(half.paced(half.request("TerminateInstances", false))).hasToString("45/2.5");
  }

  @Test
  void raisedLimitsAreNamedPerActionAndTyposAreRefused() {
    Ec2ApiLimits raised = Ec2ApiLimits.parse("RunInstances=10/4, RunInstances.resources=2000/4,DescribeInstances.unfiltered=100/20", 1);
    assertThat(raised.request("RunInstances", false)).hasToString("10/4");
    assertThat(raised.resources("RunInstances")).hasValueSatisfying(b -> assertThat(b).hasToString("2000/4"));
    assertThat(raised.request("DescribeInstances", true)).hasToString("100/20");
    assertThat(raised.request("TerminateInstances", false)).hasToString("100/5");
    assertThatThrownBy(() -> Ec2ApiLimits.parse("RunInstances=10", 1)).hasMessageContaining("Action=capacity/refill");
    assertThatThrownBy(() -> Ec2ApiLimits.parse("runInstances=10/4", 1)).hasMessageContaining("runInstances");
    assertThatThrownBy(() -> Ec2ApiLimits.parse("RunInstances=ten/4", 1)).hasMessageContaining("numbers");
    assertThatThrownBy(() -> Ec2ApiLimits.parse("RunInstances=10/0", 1)).hasMessageContaining("refills more than 0");
    assertThatThrownBy(() -> Ec2ApiLimits.parse("", 0)).hasMessageContaining("above 0");
    assertThatThrownBy(() -> Ec2ApiLimits.parse("", 1.5)).hasMessageContaining("at most 1");
  }

  @Test
  void aCallTellsItsBucketByItsFiltersAndItsResourcesByItsInstances() {
    assertThat(Ec2Pacing.unfiltered(DescribeInstancesRequest.builder().instanceIds("i-1").build())).isTrue();
    assertThat(Ec2Pacing.unfiltered(DescribeInstancesRequest.builder().maxResults(1000).build())).isFalse();
    assertThat(Ec2Pacing.unfiltered(DescribeInstancesRequest.builder()
        .filters(Filter.builder().name("tag:trainingjob.dev/managed-by").values("x").build()).build())).isFalse();
    assertThat(Ec2Pacing.resources("RunInstances", RunInstancesRequest.builder().minCount(1).maxCount(3).build())).isEqualTo(3);
    assertThat(Ec2Pacing.resources("TerminateInstances", TerminateInstancesRequest.builder().instanceIds("i-1", "i-2").build()))
        .isEqualTo(2);
  }

  @Test
  void everyCallIsPacedAsItGoesOutOnItsActionsBucketsAndWaitsItsTurn() {
    Ec2Pacing pacing = new Ec2Pacing(Ec2ApiLimits.AWS_DEFAULTS, clock, new SimpleMeterRegistry());
    RunInstancesRequest one = RunInstancesRequest.builder().minCount(1).maxCount(1).build();
    assertThat(pacing.reserve("RunInstances", one)).isZero();
    assertThat(pacing.reserve("RunInstances", one)).isEqualTo(Duration.ofMillis(500));
    // another action has a bucket of its own; a filtered listing another than one by id
    DescribeInstancesRequest byId = DescribeInstancesRequest.builder().instanceIds("i-1").build();
    for (int i = 0; i < 30; i++) {
      assertThat(pacing.reserve("DescribeInstances", byId)).isZero();
    }
    assertThat(pacing.reserve("DescribeInstances", byId)).isEqualTo(Duration.ofMillis(100));
    assertThat(pacing.reserve("DescribeInstances", DescribeInstancesRequest.builder().maxResults(1000).build())).isZero();
    // a launch of more instances than the resource bucket holds now waits for their tokens, whatever the request bucket has
    Ec2Pacing raised = new Ec2Pacing(Ec2ApiLimits.parse("RunInstances=100/50,RunInstances.resources=10/2", 1), clock,
        new SimpleMeterRegistry());
    RunInstancesRequest six = RunInstancesRequest.builder().minCount(6).maxCount(6).build();
    assertThat(raised.reserve("RunInstances", six)).isZero(); // 10 - 2 * 2 = 6 at once
    assertThat(raised.reserve("RunInstances", one)).isEqualTo(Duration.ofMillis(500));
  }

  @Test
  void reservationsOweTheirTokensSoConcurrentCallersGoOutOneRefillApart() {
    TokenBucket bucket = new TokenBucket(new Ec2ApiLimits.Bucket(1, 2), clock);
    assertThat(bucket.reserve(1)).isZero();
    assertThat(bucket.reserve(1)).isEqualTo(Duration.ofMillis(500));
    assertThat(bucket.reserve(1)).isEqualTo(Duration.ofSeconds(1));
    assertThat(bucket.tryTake(1)).isFalse();
    clock.advance(Duration.ofSeconds(10));
    // the debt was paid and the bucket refilled to its capacity, no more
    assertThat(bucket.tryTake(1)).isTrue();
    assertThat(bucket.tryTake(1)).isFalse();
  }
}
