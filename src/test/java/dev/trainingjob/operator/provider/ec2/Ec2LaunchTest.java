package dev.trainingjob.operator.provider.ec2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.api.AccessSpec;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.fake.ec2.Ec2Harness;
import dev.trainingjob.operator.fake.ec2.FakeEc2;
import dev.trainingjob.operator.fake.ec2.FakeInstance;
import dev.trainingjob.operator.job.JobFailure;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a launch asks EC2 for: images, users, security group rules, tags, IMDSv2. */
class Ec2LaunchTest extends WithEc2Operator {

  @Test
  void securityGroupsOpenSshToTheOperatorOnlyAndPortsToTheNamedCidrs() {
    h.create(Ec2Harness.job("closed", Ec2LifecycleTest.SLEEPER));
    TrainingJob open = Ec2Harness.job("tensorboard", Ec2LifecycleTest.SLEEPER);
    open.getSpec().access = new AccessSpec();
    open.getSpec().access.ports = List.of(6006);
    open.getSpec().access.allowedCidrs = List.of("203.0.113.0/24");
    h.create(open);
    await().atMost(Duration.ofSeconds(60)).until(() -> h.phase("closed") == Phase.Running && h.phase("tensorboard") == Phase.Running);

    List<FakeEc2.Group> groups = h.fake.groups();
    assertThat(groups).hasSize(2);
    FakeEc2.Group closed = groups.stream().filter(g -> "closed".equals(g.tags().get(Ec2Tags.NAME))).findFirst().orElseThrow();
    FakeEc2.Group tb = groups.stream().filter(g -> "tensorboard".equals(g.tags().get(Ec2Tags.NAME))).findFirst().orElseThrow();
    String ssh = String.valueOf(h.fake.sshPort());
    assertThat(closed.rules()).extracting(r -> String.join(" ", r)).containsExactly("tcp " + ssh + " " + ssh + " " + Ec2Harness.OPERATOR_CIDR);
    assertThat(tb.rules()).extracting(r -> String.join(" ", r))
        .containsExactlyInAnyOrder("tcp " + ssh + " " + ssh + " " + Ec2Harness.OPERATOR_CIDR, "tcp 6006 6006 203.0.113.0/24");
    // nothing, anywhere, opened to the world
    assertThat(h.fake.requests("AuthorizeSecurityGroupIngress")).allSatisfy(r -> assertThat(r.params()).doesNotContainValue("0.0.0.0/0"));
    // every launch carried the tags (instance and volume) and required IMDSv2
    assertThat(h.fake.requests("RunInstances")).hasSize(2).allSatisfy(r -> {
      assertThat(r.params()).containsEntry("MetadataOptions.HttpTokens", "required")
          .containsEntry("TagSpecification.1.ResourceType", "instance").containsEntry("TagSpecification.2.ResourceType", "volume");
      assertThat(r.params().entrySet()).filteredOn(e -> e.getKey().matches("TagSpecification\\.\\d\\.Tag\\.\\d+\\.Key"))
          .extracting(e -> e.getValue()).contains(Ec2Tags.UID, Ec2Tags.NAME, Ec2Tags.NAMESPACE, Ec2Tags.MANAGED_BY);
    });
    // the host key was known before the first connection: the instance presents the one the Secret holds
    for (FakeInstance i : h.fake.instances()) {
      assertThat(i.userData()).startsWith("#cloud-config").contains("ssh_authorized_keys").contains("ed25519_private");
    }
  }

  @Test
  void longNamesOverlappingCidrsAndIpv6AreLaunchedWithinWhatEc2Takes() {
    String name = "a".repeat(240);
    TrainingJob job = Ec2Harness.job(name, Ec2LifecycleTest.SLEEPER);
    job.getSpec().access = new AccessSpec();
    job.getSpec().access.ports = List.of(6006, 6006);
    // the operator's own SSH CIDR, and an IPv6 range twice
    job.getSpec().access.allowedCidrs = List.of(Ec2Harness.OPERATOR_CIDR, "2001:db8::/32", "2001:db8::/32");
    h.create(job);

    await().atMost(Duration.ofSeconds(60)).until(() -> h.phase(name) == Phase.Running);

    FakeInstance instance = h.fake.instances().get(0);
    assertThat(instance.tags.get("Name")).hasSizeLessThanOrEqualTo(256).startsWith("trainingjob/default/aaaa");
    String ssh = String.valueOf(h.fake.sshPort());
    assertThat(h.fake.groups()).singleElement().satisfies(g -> assertThat(g.rules()).extracting(r -> String.join(" ", r))
        .containsExactlyInAnyOrder("tcp " + ssh + " " + ssh + " " + Ec2Harness.OPERATOR_CIDR,
            "tcp 6006 6006 " + Ec2Harness.OPERATOR_CIDR, "tcp 6006 6006 2001:db8::/32"));
  }

  @Test
  void theSshPortTheOperatorUsesIsNeverOpenedOnRequest() {
    // the fake's instances listen for SSH on a port other than 22, as an operator's --ec2-ssh-port may say
    TrainingJob job = Ec2Harness.job("open-ssh", Ec2LifecycleTest.SLEEPER);
    job.getSpec().access = new AccessSpec();
    job.getSpec().access.ports = List.of(6006, h.fake.sshPort());
    job.getSpec().access.allowedCidrs = List.of("0.0.0.0/0");
    h.create(job);

    await().atMost(Duration.ofSeconds(60)).until(() -> h.phase("open-ssh") == Phase.Failed);
    TrainingJob failed = h.get("open-ssh");
    assertThat(failed.getStatus().message).contains("spec.access.ports[1]: names the SSH port " + h.fake.sshPort());
    assertThat(h.fake.requests("RunInstances")).isEmpty();
    assertThat(h.fake.requests("AuthorizeSecurityGroupIngress")).isEmpty();
  }

  @Test
  void theFakeRefusesWhatEc2Refuses() {
    var ec2 = h.clients.ec2();
    String group = ec2.createSecurityGroup(r -> r.groupName("limits").description("limits")).groupId();
    var twice = software.amazon.awssdk.services.ec2.model.IpPermission.builder().ipProtocol("tcp").fromPort(22).toPort(22)
        .ipRanges(r -> r.cidrIp("198.51.100.0/24")).build();
    var other = software.amazon.awssdk.services.ec2.model.IpPermission.builder().ipProtocol("tcp").fromPort(80).toPort(80)
        .ipRanges(r -> r.cidrIp("198.51.100.0/24")).build();

    assertThatThrownBy(() -> ec2.authorizeSecurityGroupIngress(r -> r.groupId(group).ipPermissions(other, twice, twice)))
        .satisfies(e -> assertThat(Ec2Errors.code((software.amazon.awssdk.awscore.exception.AwsServiceException) e)).isEqualTo("InvalidPermission.Duplicate"));
    assertThat(h.fake.groups()).singleElement().satisfies(g -> assertThat(g.rules()).as("all or nothing").isEmpty());
    assertThatThrownBy(() -> ec2.authorizeSecurityGroupIngress(r -> r.groupId(group).ipPermissions(p -> p.ipProtocol("tcp")
        .fromPort(22).toPort(22).ipRanges(c -> c.cidrIp("2001:db8::/32"))))).satisfies(e -> assertThat(Ec2Errors.code((software.amazon.awssdk.awscore.exception.AwsServiceException) e)).isEqualTo("InvalidParameterValue"));
    assertThatThrownBy(() -> ec2.createSecurityGroup(r -> r.groupName("long").description("d".repeat(256))))
        .satisfies(e -> assertThat(Ec2Errors.code((software.amazon.awssdk.awscore.exception.AwsServiceException) e)).isEqualTo("InvalidParameterValue"));
    assertThatThrownBy(() -> ec2.createSecurityGroup(r -> r.groupName("sg-looks-like-an-id").description("d")))
        .satisfies(e -> assertThat(Ec2Errors.code((software.amazon.awssdk.awscore.exception.AwsServiceException) e)).isEqualTo("InvalidParameterValue"));
    assertThatThrownBy(() -> ec2.createTags(r -> r.resources(group).tags(t -> t.key("Name").value("v".repeat(257)))))
        .satisfies(e -> assertThat(Ec2Errors.code((software.amazon.awssdk.awscore.exception.AwsServiceException) e)).isEqualTo("InvalidParameterValue"));
    assertThatThrownBy(() -> ec2.createTags(r -> r.resources(group).tags(t -> t.key("aws:reserved").value("v"))))
        .satisfies(e -> assertThat(Ec2Errors.code((software.amazon.awssdk.awscore.exception.AwsServiceException) e)).isEqualTo("InvalidParameterValue"));
  }

  /**
   * status.attachCommand, run as a person would with OpenSSH's ssh (kubectl played by a script that answers with the
   * Secret's fields): the host key comes from the Secret (the replacement's by now), so ssh checks the instance
   * against it; a Secret whose host key is another one gets "Host key verification failed", never a prompt.
   */
  @Test
  void theAttachCommandChecksTheInstanceAgainstTheHostKeyInTheSecret() throws Exception {
    h.create(Ec2Harness.job("pinned", Ec2LifecycleTest.SLEEPER));
    await().atMost(Duration.ofSeconds(60)).until(() -> h.phase("pinned") == Phase.Running);
    String command = h.get("pinned").getStatus().attachCommand;
    assertThat(command).contains("StrictHostKeyChecking=yes").contains("host-publickey");
    var data = h.client().secrets().inNamespace("default").withName("pinned-ssh").get().getData();

    var right = attach(command, data.get("ssh-privatekey"), data.get("host-publickey"));
    assertThat(right.output()).doesNotContain("Host key verification failed");
    assertThat(right.exit()).as(right.output()).isNotEqualTo(255); // screen -r answers: ssh logged in

    String otherKey = dev.trainingjob.operator.remote.ssh.SshKeys.publicLine(
        org.apache.sshd.common.config.keys.KeyUtils.generateKeyPair("ssh-ed25519", 256).getPublic()) + "\n";
    var wrong = attach(command, data.get("ssh-privatekey"), java.util.Base64.getEncoder().encodeToString(otherKey.getBytes()));
    assertThat(wrong.exit()).isEqualTo(255);
    assertThat(wrong.output()).contains("Host key verification failed");
  }

  private record Attached(int exit, String output) {}

  private Attached attach(String command, String keyBase64, String hostKeyBase64) throws Exception {
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory(tmp, "attach");
    java.nio.file.Path bin = java.nio.file.Files.createDirectories(dir.resolve("bin"));
    java.nio.file.Path kubectl = java.nio.file.Files.writeString(bin.resolve("kubectl"), """
        #!/bin/sh
        case "$*" in
          *ssh-privatekey*) printf '%s' "$KEY_B64" ;;
          *host-publickey*) printf '%s' "$HOST_B64" ;;
          *) exit 1 ;;
        esac
        """);
    kubectl.toFile().setExecutable(true);
    ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", command).directory(dir.toFile()).redirectErrorStream(true);
    pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
    pb.environment().put("HOME", dir.toString());
    pb.environment().put("KEY_B64", keyBase64);
    pb.environment().put("HOST_B64", hostKeyBase64);
    pb.redirectOutput(dir.resolve("output").toFile());
    Process p = pb.start();
    p.getOutputStream().close();
    boolean ended = p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS);
    p.destroyForcibly();
    String output = java.nio.file.Files.readString(dir.resolve("output"));
    assertThat(ended).as(output).isTrue();
    return new Attached(p.exitValue(), output);
  }

  @Test
  void theAttachCommandUsesTheKeyFromTheJobsSecret() {
    h.create(Ec2Harness.job("attach", Ec2LifecycleTest.SLEEPER));
    await().atMost(Duration.ofSeconds(60)).until(() -> h.phase("attach") == Phase.Running);
    TrainingJob job = h.get("attach");
    assertThat(job.getStatus().attachCommand).contains("get secret attach-ssh").contains("ubuntu@" + job.getStatus().instance.address)
        .contains("screen -r tj-attach-");
    var secret = h.client().secrets().inNamespace("default").withName("attach-ssh").get();
    assertThat(secret.getMetadata().getOwnerReferences()).singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo(job.getMetadata().getUid()));
    assertThat(secret.getData()).containsKeys("ssh-privatekey", "host-publickey");
    // the private key is in the Secret only: not in status, not in Events
    String key = new String(java.util.Base64.getDecoder().decode(secret.getData().get("ssh-privatekey")));
    String body = key.lines().filter(l -> !l.startsWith("-----")).findFirst().orElseThrow();
    assertThat(h.client().resources(TrainingJob.class).inNamespace("default").withName("attach").get().toString()).doesNotContain(body);
    assertThat(h.events("attach")).allSatisfy(e -> assertThat(e.getMessage()).doesNotContain(body));
  }

  @Test
  void namedImagesResolveThroughPublicParametersAndTheUserFollowsTheFamily() {
    var catalog = new ImageCatalog(h.clients.ec2(), h.clients.ssm());
    assertThat(catalog.resolve("ubuntu-24.04")).extracting(ImageCatalog.ResolvedImage::amiId, ImageCatalog.ResolvedImage::defaultUser)
        .containsExactly(FakeEc2.UBUNTU_AMI, "ubuntu");
    assertThat(catalog.resolve("al2023")).extracting(ImageCatalog.ResolvedImage::amiId, ImageCatalog.ResolvedImage::defaultUser,
        ImageCatalog.ResolvedImage::rootDeviceName).containsExactly(FakeEc2.AL2023_AMI, "ec2-user", "/dev/xvda");
    assertThat(catalog.resolve(null).amiId()).as("the Deep Learning AMI by default").isEqualTo(FakeEc2.DLAMI_AMI);
    assertThat(catalog.resolve(FakeEc2.DLAMI_AMI).defaultUser()).isEqualTo("ubuntu");
    assertThatThrownBy(() -> catalog.resolve("ubuntu-18.04")).isInstanceOf(JobFailure.class).hasMessageContaining("ubuntu-24.04");
    assertThatThrownBy(() -> catalog.resolve("ssm:/no/such/parameter")).isInstanceOf(JobFailure.class)
        .hasMessageContaining("/no/such/parameter");
    assertThatThrownBy(() -> catalog.resolve("ami-0000000000deadbeef")).isInstanceOf(JobFailure.class)
        .hasMessageContaining("ami-0000000000deadbeef");

    assertThat(ImageCatalog.userFor("debian-12-amd64-20261101-1644")).isEqualTo("admin");
    assertThat(ImageCatalog.userFor("CentOS Stream 9 x86_64 20261101")).isEqualTo("centos");
    assertThat(ImageCatalog.userFor("Fedora-Cloud-Base-41-1.4.x86_64-hvm")).isEqualTo("fedora");
    assertThat(ImageCatalog.userFor("RHEL-9.4.0_HVM-20261101-x86_64")).isEqualTo("ec2-user");
    assertThat(ImageCatalog.userFor("suse-sles-15-sp6-v20261101-hvm-ssd-x86_64")).isEqualTo("ec2-user");
    assertThat(ImageCatalog.userFor("my-company-golden-image")).isNull();
  }

  @Test
  void anSshUserOtherThanTheImagesIsCreatedByCloudInit() throws Exception {
    TrainingJob job = Ec2Harness.job("custom-user", Ec2LifecycleTest.SCRIPT);
    job.getSpec().compute.ec2.sshUser = "trainer";
    job.getSpec().compute.ec2.spot = true;
    h.create(job);
    await().atMost(Duration.ofSeconds(60)).until(() -> h.phase("custom-user") == Phase.Succeeded);
    assertThat(h.get("custom-user").getStatus().instance.sshUser).isEqualTo("trainer");
    // spot: asked for as such, and priced from EC2's spot price history (not an upper bound)
    assertThat(h.fake.instances().get(0).launchParam("InstanceMarketOptions.MarketType")).isEqualTo("spot");
    assertThat(h.get("custom-user").getStatus().instance.spot).isTrue();
    assertThat(h.get("custom-user").getStatus().cost.priceSource).isEqualTo("spot-price-history");
    assertThat(h.get("custom-user").getStatus().cost.summary).startsWith("$");
    assertThat(h.fake.instances().get(0).userData()).contains("  - name: trainer");
    // no maxRuntimeSeconds: no ceiling; the guard's heartbeat alone bounds the instance
    FakeInstance instance = h.fake.instances().get(0);
    assertThat(instance.guardState().resolve("armed-at")).exists();
    assertThat(instance.guardState().resolve("job/ceiling")).doesNotExist();
    assertThat(instance.powerOffRequests()).isEmpty();
  }

  @Test
  void withoutADefaultVpcASubnetIsAskedForAndOneWorks() {
    h.fake.withoutDefaultVpc();
    h.create(Ec2Harness.job("no-vpc", Ec2LifecycleTest.SCRIPT));
    await().atMost(Duration.ofSeconds(60)).until(() -> h.phase("no-vpc") == Phase.Failed);
    assertThat(h.get("no-vpc").getStatus().message).contains("no default VPC").contains("subnetId");
    assertThat(h.fake.requests("RunInstances")).isEmpty();

    // a subnet of one's own that gives no public address: the launch asks for one on the network interface
    h.fake.addSubnet("subnet-0abc", "vpc-0abc", false);
    TrainingJob inSubnet = Ec2Harness.job("in-subnet", Ec2LifecycleTest.SCRIPT);
    inSubnet.getSpec().compute.ec2.subnetId = "subnet-0abc";
    h.create(inSubnet);
    await().atMost(Duration.ofSeconds(60)).until(() -> h.phase("in-subnet") == Phase.Succeeded);
    assertThat(h.fake.instances()).singleElement().satisfies(i -> {
      assertThat(i.launchParam("NetworkInterface.1.SubnetId")).isEqualTo("subnet-0abc");
      assertThat(i.launchParam("NetworkInterface.1.AssociatePublicIpAddress")).isEqualTo("true");
      assertThat(i.hasPublicIp()).isTrue();
      assertThat(i.securityGroupIds).hasSize(1);
    });
    assertThat(h.fake.requests("CreateSecurityGroup")).anySatisfy(r -> assertThat(r.params()).containsEntry("VpcId", "vpc-0abc"));
  }
}
