package dev.trainingjob.operator.fake.ec2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.trainingjob.operator.support.TestClock;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.RunInstancesRequest;

/**
 * The fake throttles as EC2 documents it ({@link FakeApiLimits}), through the real SDK without retries or pacing: AWS's
 * token buckets per action and per instance, refilled by a clock the test moves, and EC2's answer when one is empty.
 */
class FakeEc2ThrottlingTest {
  @TempDir
  Path tmp;
  final TestClock clock = new TestClock(Instant.parse("2026-11-27T10:00:00Z"));
  FakeEc2 fake;
  Ec2Client ec2;

  @BeforeEach
  void start() throws Exception {
    fake = new FakeEc2(tmp).bootless().throttleAsEc2(clock);
    ec2 = Ec2Client.builder().region(Region.US_EAST_1).endpointOverride(URI.create(fake.endpoint().toString()))
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDFAKE", "fake")))
        .overrideConfiguration(c -> c.retryStrategy(AwsRetryStrategy.doNotRetry())).build();
  }

  @AfterEach
  void stop() {
    ec2.close();
    fake.close();
  }

  @Test
  void anEmptyBucketIsAnsweredAsEc2DoesAndTheSdkKnowsItForThrottling() {
    IntStream.range(0, 5).forEach(i -> launch(1));
    AwsServiceException e = catchThrowableOfType(() -> launch(1), AwsServiceException.class);
    assertThat(e.statusCode()).isEqualTo(503);
    assertThat(e.awsErrorDetails().errorCode()).isEqualTo("RequestLimitExceeded");
    assertThat(e.awsErrorDetails().errorMessage()).isEqualTo("Request limit exceeded.");
    assertThat(e.isThrottlingException()).as("what the SDK's retry policy backs off from").isTrue();
    assertThat(fake.requestLimitExceeded()).isEqualTo(Map.of("RunInstances", 1));
  }

  @Test
  void runInstancesHoldsFiveAndGetsTwoBackAtEachWholeSecond() {
    IntStream.range(0, 5).forEach(i -> launch(1));
    assertThat(refused(() -> launch(1))).isTrue();
    clock.advance(Duration.ofMillis(900));
    assertThat(refused(() -> launch(1))).as("nothing comes back within the second").isTrue();
    clock.advance(Duration.ofMillis(100));
    launch(1);
    launch(1);
    assertThat(refused(() -> launch(1))).isTrue();
    clock.advance(Duration.ofSeconds(10));
    IntStream.range(0, 5).forEach(i -> launch(1));
    assertThat(refused(() -> launch(1))).as("never more than the bucket holds").isTrue();
  }

  @Test
  void instancesTakeTokensOfTheirOwnBucket() {
    launch(1000); // the resource bucket holds 1000: one request may take them all
    clock.advance(Duration.ofSeconds(1));
    assertThat(refused(() -> launch(3))).as("2 instance tokens came back, and the request bucket has 4").isTrue();
    launch(2);
    assertThat(fake.requestLimitExceeded()).isEqualTo(Map.of("RunInstances", 1));
    // TerminateInstances counts the instances it names against a bucket of 1000, 20 a second
    List<String> ids = fake.instances().stream().map(i -> i.id).toList();
    ec2.terminateInstances(r -> r.instanceIds(ids.subList(0, 1)));
  }

  @Test
  void eachActionHasItsOwnBucketAndDescribesWithoutFiltersASmallerOne() {
    launch(1);
    String id = fake.instances().get(0).id;
    Runnable byId = () -> ec2.describeInstances(r -> r.instanceIds(id));
    IntStream.range(0, 50).forEach(i -> byId.run());
    assertThat(refused(byId)).isTrue();
    // filtered, the same action draws on the bucket of 100, untouched so far
    Runnable listing = () -> ec2.describeInstances(r -> r.filters(Filter.builder().name("tag:x").values("y").build()));
    IntStream.range(0, 100).forEach(i -> listing.run());
    assertThat(refused(listing)).isTrue();
    // and RunInstances, a bucket of its own, still has 4
    IntStream.range(0, 4).forEach(i -> launch(1));
    clock.advance(Duration.ofSeconds(1));
    IntStream.range(0, 10).forEach(i -> byId.run());
    IntStream.range(0, 20).forEach(i -> listing.run());
    assertThat(refused(listing)).isTrue();
    assertThat(fake.requestLimitExceeded()).isEqualTo(Map.of("DescribeInstances", 3));
  }

  private void launch(int instances) {
    ec2.runInstances(RunInstancesRequest.builder().imageId(FakeEc2.UBUNTU_AMI).instanceType("t3.medium").minCount(1)
        .maxCount(instances).build());
  }

  private static boolean refused(Runnable call) {
    try {
      call.run();
      return false;
    } catch (AwsServiceException e) {
      return "RequestLimitExceeded".equals(e.awsErrorDetails().errorCode());
    }
  }
}
