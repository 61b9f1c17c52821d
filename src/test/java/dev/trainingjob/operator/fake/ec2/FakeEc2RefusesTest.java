package dev.trainingjob.operator.fake.ec2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.provider.ec2.Ec2Clients;
import dev.trainingjob.operator.provider.ec2.Ec2Settings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.RunInstancesRequest;

/**
 * The fake refuses what EC2 refuses, with EC2's code and a 4xx status, through the real SDK: a
 * request the fake took and EC2 would not would hide a loop real users meet first. Limits from
 * the EC2 API reference (RunInstances, DescribeInstances, DescribeInstanceTypes).
 */
class FakeEc2RefusesTest {
  @TempDir
  Path tmp;
  FakeEc2 fake;
  Ec2Clients clients;
  Ec2Client ec2;

  @BeforeEach
  void start() throws Exception {
    fake = new FakeEc2(tmp).delays(Duration.ofMillis(50), Duration.ofMillis(50));
    Ec2Settings.Builder b = Ec2Settings.builder();
    b.region = "us-east-1";
    b.endpoint = fake.endpoint();
    Ec2Settings settings = b.build();
    clients = Ec2Clients.create(settings, StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDFAKE", "fake")),
        new SimpleMeterRegistry());
    ec2 = clients.ec2();
  }

  @AfterEach
  void stop() {
    clients.close();
    fake.close();
  }

  @Test
  void runInstancesRefusesWhatEc2Refuses() {
    refused(r -> r.clientToken("x".repeat(65)), "InvalidParameterValue", "clientToken");
    refused(r -> r.userData(Base64.getEncoder().encodeToString("#!/bin/sh\n".concat("x".repeat(16_380)).getBytes(StandardCharsets.UTF_8))),
        "InvalidParameterValue", "16384 bytes");
    refused(r -> r.minCount(null), "MissingParameter", "MinCount");
    refused(r -> r.instanceType("g5.xlarg"), "InvalidParameterValue", "InstanceType");
    refused(r -> r.instanceType("g5g.xlarge"), "InvalidParameterValue", "architecture 'arm64'");
    refused(r -> r.imageId("ami-0nothere"), "InvalidAMIID.NotFound", "ami-0nothere");
    refused(r -> r.subnetId("subnet-0nothere"), "InvalidSubnetID.NotFound", "subnet-0nothere");
    refused(r -> r.securityGroupIds("sg-0nothere"), "InvalidGroup.NotFound", "sg-0nothere");
    refused(r -> r.imageId(FakeEc2.DLAMI_AMI).blockDeviceMappings(m -> m.deviceName("/dev/sda1").ebs(e -> e.volumeSize(20))),
        "InvalidBlockDeviceMapping", "expect size >= 75GB");
    fake.addSubnet("subnet-0a", "vpc-0a", false);
    refused(r -> r.subnetId("subnet-0a").networkInterfaces(n -> n.deviceIndex(0).subnetId("subnet-0a").associatePublicIpAddress(true)),
        "InvalidParameterCombination", "Network interfaces");
    fake.exhaustQuota("G and VT");
    refused(r -> r, "VcpuLimitExceeded", "vCPU limit");
    refused(r -> r.instanceMarketOptions(m -> m.marketType("spot")), "MaxSpotInstanceCountExceeded", "spot");
    assertThat(fake.instances()).isEmpty();
  }

  @Test
  void describeInstancesRefusesMaxResultsOutOfRangeOrWithIds() {
    refusedCall(() -> ec2.describeInstances(r -> r.maxResults(4)), "InvalidParameterValue", "between 5 and 1000");
    refusedCall(() -> ec2.describeInstances(r -> r.maxResults(1001)), "InvalidParameterValue", "between 5 and 1000");
    refusedCall(() -> ec2.describeInstances(r -> r.maxResults(5).instanceIds("i-0123")), "InvalidParameterCombination", "maxResults");
    refusedCall(() -> ec2.describeInstanceTypes(r -> r.instanceTypesWithStrings("g5.xlarge", "g9.huge")), "InvalidInstanceType", "g9.huge");
    assertThat(ec2.describeInstanceTypes(r -> r.instanceTypesWithStrings("g5g.xlarge")).instanceTypes().get(0)
        .processorInfo().supportedArchitecturesAsStrings()).containsExactly("arm64");
  }

  @Test
  void aTerminatedInstancesTokenIsRefusedItsStateReasonSaysWhyAndItsTagsGo() {
    fake.dropTagsOfTerminatedAfter(Duration.ZERO);
    String id = ec2.runInstances(launch(r -> r.clientToken("token-1"))).instances().get(0).instanceId();
    // the same request again is the same instance
    assertThat(ec2.runInstances(launch(r -> r.clientToken("token-1"))).instances().get(0).instanceId()).isEqualTo(id);
    ec2.terminateInstances(r -> r.instanceIds(id));
    await().atMost(Duration.ofSeconds(10)).until(() -> "terminated".equals(one(id).state().nameAsString()));

    refused(r -> r.clientToken("token-1"), "IdempotentInstanceTerminated", "terminated");
    refused(r -> r.clientToken("token-1").instanceType("g6.xlarge"), "IdempotentParameterMismatch", "different parameters");
    assertThat(one(id).stateReason().code()).isEqualTo("Client.UserInitiatedShutdown");
    assertThat(one(id).tags()).isEmpty();
    // found by its token all the same
    assertThat(ec2.describeInstances(r -> r.filters(f -> f.name("client-token").values("token-1"))).reservations()).hasSize(1);

    String spot = ec2.runInstances(launch(r -> r.clientToken("token-2").instanceMarketOptions(m -> m.marketType("spot"))))
        .instances().get(0).instanceId();
    fake.interruptSpot(spot);
    assertThat(one(spot).stateReason().code()).isEqualTo("Server.SpotInstanceTermination");
  }

  @Test
  void aSubnetThatMapsNoPublicAddressGivesNoneUnlessOneIsAskedFor() {
    fake.addSubnet("subnet-0private", "vpc-0a", false);
    String group = ec2.createSecurityGroup(r -> r.groupName("g").description("d").vpcId("vpc-0a")).groupId();
    Instance without = ec2.runInstances(launch(r -> r.subnetId("subnet-0private").securityGroupIds(group))).instances().get(0);
    assertThat(without.publicIpAddress()).isNull();
    Instance with = ec2.runInstances(launch(r -> r.networkInterfaces(n -> n.deviceIndex(0).subnetId("subnet-0private")
        .groups(group).associatePublicIpAddress(true)))).instances().get(0);
    assertThat(with.publicIpAddress()).isNotNull();
  }

  // ---- helpers

  private static RunInstancesRequest launch(Consumer<RunInstancesRequest.Builder> edit) {
    RunInstancesRequest.Builder b = RunInstancesRequest.builder().imageId(FakeEc2.UBUNTU_AMI).instanceType("g5.xlarge")
        .minCount(1).maxCount(1);
    edit.accept(b);
    return b.build();
  }

  private Instance one(String id) {
    return ec2.describeInstances(r -> r.instanceIds(id)).reservations().get(0).instances().get(0);
  }

  private void refused(java.util.function.UnaryOperator<RunInstancesRequest.Builder> edit, String code, String messagePart) {
    refusedCall(() -> ec2.runInstances(launch(edit::apply)), code, messagePart);
  }

  private static void refusedCall(Runnable call, String code, String messagePart) {
    assertThatThrownBy(call::run).isInstanceOf(AwsServiceException.class).satisfies(e -> {
      AwsServiceException a = (AwsServiceException) e;
      assertThat(a.awsErrorDetails().errorCode()).isEqualTo(code);
      assertThat(a.statusCode()).isBetween(400, 499);
      assertThat(a.awsErrorDetails().errorMessage()).contains(messagePart);
    });
  }
}
