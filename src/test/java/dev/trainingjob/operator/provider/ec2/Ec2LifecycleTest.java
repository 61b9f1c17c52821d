package dev.trainingjob.operator.provider.ec2;

import dev.trainingjob.operator.api.ConditionType;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.api.LimitsSpec;
import dev.trainingjob.operator.api.OutputSpec;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.fake.ec2.Ec2Harness;
import dev.trainingjob.operator.fake.ec2.FakeEc2;
import dev.trainingjob.operator.fake.ec2.FakeInstance;
import dev.trainingjob.operator.status.Conditions;
import io.fabric8.kubernetes.api.model.Event;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A job on an EC2 instance, from apply to terminated, through the real SDK against the fake endpoint. */
class Ec2LifecycleTest extends WithEc2Operator {
  static final String SCRIPT = """
      import os, pathlib
      print("training on", os.uname().nodename)
      out = pathlib.Path("model.txt")
      out.write_text("weights")
      print("done")
      """;

  @Test
  void jobRunsOnItsInstanceAndEverythingIsGoneAfterwards() throws Exception {
    TrainingJob job = Ec2Harness.job("happy", SCRIPT);
    job.getSpec().output = new OutputSpec();
    job.getSpec().output.paths = List.of("model.txt");
    job.getSpec().limits = new LimitsSpec();
    job.getSpec().limits.maxRuntimeSeconds = 3600L;
    String uid = h.create(job).getMetadata().getUid();

    await().atMost(Duration.ofSeconds(90)).until(() -> h.get("happy").getStatus() != null
        && h.phase("happy") == Phase.Succeeded
        && Conditions.isTrue(h.get("happy").getStatus(), ConditionType.RELEASED));
    TrainingJob done = h.get("happy");

    // one instance, launched with the job's tags, IMDSv2, shutdown behaviour terminate, an encrypted root volume
    assertThat(h.fake.instances()).hasSize(1);
    FakeInstance instance = h.fake.instances().get(0);
    assertThat(done.getStatus().instance.id).isEqualTo(instance.id);
    assertThat(done.getStatus().instance.type).isEqualTo("g5.xlarge");
    assertThat(done.getStatus().instance.sshUser).isEqualTo("ubuntu");
    assertThat(instance.tags).containsEntry(Ec2Tags.UID, uid).containsEntry(Ec2Tags.NAME, "happy")
        .containsEntry(Ec2Tags.NAMESPACE, "default").containsEntry(Ec2Tags.MANAGED_BY, h.config.operatorId());
    assertThat(instance.volumeTags).containsEntry(Ec2Tags.UID, uid).containsEntry(Ec2Tags.MANAGED_BY, h.config.operatorId());
    assertThat(instance.imageId).isEqualTo(FakeEc2.UBUNTU_AMI);
    assertThat(instance.launchParam("MetadataOptions.HttpTokens")).isEqualTo("required");
    assertThat(instance.launchParam("InstanceInitiatedShutdownBehavior")).isEqualTo("terminate");
    assertThat(instance.launchParam("BlockDeviceMapping.1.Ebs.Encrypted")).isEqualTo("true");
    assertThat(instance.launchParam("BlockDeviceMapping.1.Ebs.DeleteOnTermination")).isEqualTo("true");
    assertThat(instance.clientToken).startsWith(uid);

    // the script ran there, and its output came back
    Path collected = tmp.resolve("outputs/default/happy/model.txt");
    assertThat(collected).hasContent("weights");
    assertThat(done.getStatus().logTail).anyMatch(l -> l.contains("training on"));

    // the probe saw the instance's GPU through nvidia-smi, and its disk
    assertThat(done.getStatus().usage.gpus).singleElement().satisfies(g -> {
      assertThat(g.name).isEqualTo("NVIDIA A10G");
      assertThat(g.utilizationPercent).isEqualTo(87.0);
      assertThat(g.memoryUsedMiB).isEqualTo(18234L);
      assertThat(g.memoryTotalMiB).isEqualTo(23028L);
    });
    assertThat(done.getStatus().usage.diskTotalBytes).isPositive();

    // an estimated cost from the bundled price of g5.xlarge, frozen at release
    assertThat(done.getStatus().cost.pricePerHourUSD).isEqualTo(1.006);
    assertThat(done.getStatus().cost.summary).startsWith("$");
    assertThat(done.getStatus().instance.sshPort).isEqualTo(h.fake.sshPort());

    // the instance's own guard was armed at boot and fed by the probes; the driver gave it the ceiling at
    // maxRuntimeSeconds + grace from its start; it never asked for a power-off, and nothing tried a real one
    assertThat(instance.userData()).contains("bootcmd:").contains("trainingjob-guard");
    assertThat(instance.guardState().resolve("job/heartbeat")).exists();
    long ceiling = Long.parseLong(Files.readString(instance.guardState().resolve("job/ceiling")).trim());
    long started = java.time.Instant.parse(done.getStatus().startedAt).getEpochSecond();
    assertThat(ceiling - started).isBetween(4500L - 30, 4500L + 30);
    assertThat(instance.powerOffRequests()).isEmpty();
    assertThat(h.fake.forbiddenCommands()).isEmpty();

    // released: terminated, security group and key Secret deleted
    assertThat(h.fake.instance(instance.id).state()).isEqualTo("terminated");
    assertThat(h.fake.groups()).isEmpty();
    assertThat(h.client().secrets().inNamespace("default").withName("happy-ssh").get()).isNull();
    assertThat(h.events("happy")).extracting(Event::getReason).contains("Launched", "Released");

    // the IAM policy in deploy/ allows every call this job needed
    var allowed = IamPolicyTest.allowed();
    assertThat(h.fake.requests()).extracting(r -> (r.action().equals("GetParameter") ? "ssm:" : "ec2:") + r.action())
        .allMatch(allowed::contains, "allowed by deploy/iam/trainingjob-operator-policy.json " + allowed);
  }

  static final String SLEEPER = "import time\nprint('working', flush=True)\ntime.sleep(600)\n";

  @Test
  void anOperatorKilledRightAfterRunInstancesFindsTheSameInstanceAgain() throws Exception {
    killOperatorRightAfterTheLaunch();
    // a new operator process: nothing in memory, the status does not name the instance
    var before = h.get("restart").getStatus();
    assertThat(before == null ? null : before.instance).isNull();
    h.startOperator();
    await().atMost(Duration.ofSeconds(90)).until(() -> h.phase("restart") == Phase.Succeeded);

    assertThat(h.fake.requests("RunInstances")).hasSize(1);
    assertThat(h.fake.instances()).hasSize(1);
    assertThat(h.get("restart").getStatus().instance.id).isEqualTo(h.fake.instances().get(0).id);
  }

  @Test
  void whileTheLaunchIsNotListedYetTheClientTokenStillYieldsOneInstance() throws Exception {
    // EC2's eventual consistency: for a while DescribeInstances does not show the new instance
    h.fake.invisibleAfterLaunch(Duration.ofSeconds(4));
    killOperatorRightAfterTheLaunch();
    h.startOperator();
    await().atMost(Duration.ofSeconds(90)).until(() -> h.phase("restart") == Phase.Succeeded);

    // the new operator asked again with the same token and got the same instance back
    assertThat(h.fake.requests("RunInstances")).hasSizeGreaterThanOrEqualTo(2)
        .extracting(r -> r.params().get("ClientToken")).containsOnly(h.fake.instances().get(0).clientToken);
    assertThat(h.fake.instances()).hasSize(1);
    // and InvalidInstanceID.NotFound / an empty listing right after the launch never counted as "gone"
    assertThat(h.get("restart").getStatus().conditions).noneMatch(c -> "InstanceLost".equals(c.reason));
  }

  private void killOperatorRightAfterTheLaunch() {
    h.stopOperatorRightAfterTheLaunch(Ec2Harness.job("restart", SCRIPT));
  }

  @Test
  void anOperatorStoppedWhileReleasingFinishesTheReleaseAfterItsRestart() throws Exception {
    h.fake.dependencyViolations(Integer.MAX_VALUE); // the group cannot go yet: release stays unfinished
    h.create(Ec2Harness.job("half-released", SCRIPT));
    await().atMost(Duration.ofSeconds(90)).until(() -> h.phase("half-released") == Phase.Succeeded
        && h.fake.requests("DeleteSecurityGroup").size() >= 2);
    h.stopOperator();
    assertThat(Conditions.isTrue(h.get("half-released").getStatus(), ConditionType.RELEASED)).isFalse();
    assertThat(h.fake.notTerminated()).isEmpty();
    assertThat(h.fake.groups()).hasSize(1);

    h.fake.dependencyViolations(0);
    h.startOperator();
    await().atMost(Duration.ofSeconds(60)).until(() -> Conditions.isTrue(h.get("half-released").getStatus(), ConditionType.RELEASED));
    assertThat(h.fake.groups()).isEmpty();
    assertThat(h.client().secrets().inNamespace("default").withName("half-released-ssh").get()).isNull();
  }

  @Test
  void outputsGoToS3FromTheInstanceBeforeTheJobCountsAsFinished() throws Exception {
    h.stopOperator();
    h.config = h.config.with(c -> c.ec2.instanceProfile = "trainingjob-instance");
    h.startOperator();
    TrainingJob job = Ec2Harness.job("to-s3", SCRIPT);
    job.getSpec().output = new OutputSpec();
    job.getSpec().output.paths = List.of("model.txt");
    job.getSpec().output.s3Uri = "s3://models/runs/to-s3";
    h.create(job);
    await().atMost(Duration.ofSeconds(90)).until(() -> h.phase("to-s3") == Phase.Succeeded);

    assertThat(h.fake.s3Root().resolve("models/runs/to-s3/model.txt")).hasContent("weights");
    assertThat(h.fake.s3Root().resolve("models/runs/to-s3/.trainingjob-preflight")).as("checked before the script ran").exists();
    assertThat(h.get("to-s3").getStatus().outputUri).isEqualTo("s3://models/runs/to-s3");
    assertThat(h.fake.instances().get(0).launchParam("IamInstanceProfile.Name")).isEqualTo("trainingjob-instance");
  }

  /**
   * Outputs to S3 survive the endings that are not a clean exit: a copy the role may not make fails the job
   * OutputSyncFailed after the operator collected the outputs over SFTP instead; a script stopped at its max runtime still
   * has them copied by the machine. Side by side on one operator.
   */
  @Test
  void aFailedCopyIsCollectedToTheOperatorInsteadAndAStoppedScriptsOutputsStillReachS3() throws Exception {
    h.stopOperator();
    h.config = h.config.with(c -> c.ec2.instanceProfile = "trainingjob-instance");
    h.startOperator();
    Files.writeString(h.fake.s3Root().resolve("fail"), "denied/model.txt"); // this job's outputs are refused, nothing else
    TrainingJob denied = Ec2Harness.job("s3-denied", SCRIPT);
    denied.getSpec().output = new OutputSpec();
    denied.getSpec().output.paths = List.of("model.txt");
    denied.getSpec().output.s3Uri = "s3://models/denied";
    h.create(denied);
    TrainingJob stopped = Ec2Harness.job("s3-timeout", """
        import pathlib, time
        pathlib.Path("model.txt").write_text("epoch 1")
        print("saved epoch 1", flush=True)
        time.sleep(600)
        """);
    stopped.getSpec().output = new OutputSpec();
    stopped.getSpec().output.paths = List.of("model.txt");
    stopped.getSpec().output.s3Uri = "s3://models/timeout";
    stopped.getSpec().limits = new LimitsSpec();
    stopped.getSpec().limits.maxRuntimeSeconds = 10L; // ample for the model to be saved
    h.create(stopped);
    for (String name : List.of("s3-denied", "s3-timeout")) {
      await().atMost(Duration.ofSeconds(90)).until(() -> h.phase(name) == Phase.Failed
          && Conditions.isTrue(h.get(name).getStatus(), ConditionType.RELEASED));
    }

    var status = h.get("s3-denied").getStatus();
    assertThat(status.conditions).anyMatch(c -> "OutputSyncFailed".equals(c.reason));
    assertThat(status.message).contains("aws s3 cp of model.txt failed").contains("s3://models/denied")
        .contains("outputs collected to");
    assertThat(status.outputUri).isNull();
    // nothing is lost: the operator collected them over SFTP before it released the instance
    assertThat(h.config.outputDir().resolve("default/s3-denied/model.txt")).hasContent("weights");
    assertThat(status.outputs.collected).containsExactly("model.txt");
    assertThat(status.outputs.notSaved).isNull();

    status = h.get("s3-timeout").getStatus();
    assertThat(status.conditions).anyMatch(c -> "MaxRuntimeExceeded".equals(c.reason));
    assertThat(h.fake.s3Root().resolve("models/timeout/model.txt")).hasContent("epoch 1");
    assertThat(status.outputs.uri).isEqualTo("s3://models/timeout");
    assertThat(status.message).startsWith("Timeout: ").contains("outputs copied to s3://models/timeout");
    assertThat(h.fake.notTerminated()).isEmpty();
  }

  @Test
  void aFailedJobsInstanceIsKeptForTheDebugHoldUntilKubectlTrainingjobReleaseEndsIt() throws Exception {
    TrainingJob job = Ec2Harness.job("debug-me", "raise SystemExit(3)\n");
    job.getSpec().limits = new LimitsSpec();
    job.getSpec().limits.maxRuntimeSeconds = 60L;
    job.getSpec().limits.keepAfterFailureSeconds = 3600L;
    h.create(job);
    await().atMost(Duration.ofSeconds(90)).until(() -> Conditions.isTrue(h.get("debug-me").getStatus(), ConditionType.DEBUG_HOLD));

    var held = h.get("debug-me").getStatus();
    assertThat(held.phase).isEqualTo(Phase.Failed);
    assertThat(Conditions.isTrue(held, ConditionType.RELEASED)).isFalse();
    assertThat(h.fake.notTerminated()).hasSize(1);
    assertThat(Conditions.find(held, ConditionType.DEBUG_HOLD).message).contains("kubectl trainingjob attach debug-me");
    // the instance's own guard would power it off at maxRuntimeSeconds + grace: the hold moved that ceiling past its end
    FakeInstance instance = h.fake.instances().get(0);
    long ceiling = Long.parseLong(Files.readString(instance.guardState().resolve("job/ceiling")).trim());
    long holdEnds = java.time.Instant.parse(held.finishedAt).getEpochSecond() + 3600;
    assertThat(ceiling).isGreaterThan(holdEnds);

    assertThat(plugin("release", "debug-me", "-n", "default")).isZero();
    await().atMost(Duration.ofSeconds(90)).until(() -> Conditions.isTrue(h.get("debug-me").getStatus(), ConditionType.RELEASED));

    assertThat(Conditions.find(h.get("debug-me").getStatus(), ConditionType.DEBUG_HOLD).reason).isEqualTo("DebugHoldEnded");
    assertThat(h.fake.notTerminated()).isEmpty();
  }

  /**
   * Outputs that cannot leave the machine are found before the script runs, not hours later: an image without the
   * aws CLI, and a role that may not write under the prefix, each fail the job in Bootstrapping, naming the cause,
   * and the machine is released.
   */
  @Test
  void aCopyToS3ThatCannotWorkFailsTheJobBeforeTheScriptRuns() throws Exception {
    h.stopOperator();
    h.config = h.config.with(c -> c.ec2.instanceProfile = "trainingjob-instance");
    h.startOperator();
    Files.writeString(h.fake.s3Root().resolve("no-cli"), "");
    var failed = failedAndReleasedWithOutputsTo("no-cli", "s3://models/no-cli");
    assertThat(failed.conditions).anyMatch(c -> "BootstrapFailed".equals(c.reason));
    assertThat(failed.message).startsWith("BootstrapFailed: ").contains("aws CLI").contains("s3://models/no-cli");
    assertThat(failed.logTail == null ? List.<String>of() : failed.logTail).noneMatch(l -> l.contains("training on"));

    Files.delete(h.fake.s3Root().resolve("no-cli"));
    Files.writeString(h.fake.s3Root().resolve("fail"), "*");
    var status = failedAndReleasedWithOutputsTo("preflight-denied", "s3://models/denied");
    assertThat(status.message).startsWith("BootstrapFailed: ").contains("s3://models/denied/.trainingjob-preflight")
        .contains("AccessDenied");
    assertThat(status.failure.hint).contains("s3:PutObject");
    assertThat(status.logTail == null ? List.<String>of() : status.logTail).noneMatch(l -> l.contains("training on"));
    assertThat(h.fake.notTerminated()).isEmpty();
  }

  /** Runs SCRIPT with its outputs going to {@code s3Uri}; the status once the job failed and was released. */
  private dev.trainingjob.operator.api.TrainingJobStatus failedAndReleasedWithOutputsTo(String name, String s3Uri) {
    TrainingJob job = Ec2Harness.job(name, SCRIPT);
    job.getSpec().output = new OutputSpec();
    job.getSpec().output.s3Uri = s3Uri;
    h.create(job);
    await().atMost(Duration.ofSeconds(90)).until(() -> h.phase(name) == Phase.Failed
        && Conditions.isTrue(h.get(name).getStatus(), ConditionType.RELEASED));
    return h.get(name).getStatus();
  }

  /** A verb as `kubectl trainingjob ...` runs it, against the harness's API; its exit code. */
  private int plugin(String... args) throws Exception {
    Path kubeconfig = h.api.writeKubeconfig(Files.createTempDirectory("plugin").resolve("kubeconfig"));
    String before = System.getProperty("kubeconfig");
    System.setProperty("kubeconfig", kubeconfig.toString());
    try {
      return dev.trainingjob.operator.cli.Main.commandLine().execute(args);
    } finally {
      if (before == null) {
        System.clearProperty("kubeconfig");
      } else {
        System.setProperty("kubeconfig", before);
      }
    }
  }

  @Test
  void anInstanceWhoseGuardWasNotArmedAtBootFailsTheJobBeforeTheScriptRuns() {
    h.fake.skipBootcmd();
    h.create(Ec2Harness.job("no-switch", SCRIPT));
    await().atMost(Duration.ofSeconds(90)).until(() -> h.phase("no-switch") == Phase.Failed
        && Conditions.isTrue(h.get("no-switch").getStatus(), ConditionType.RELEASED));
    assertThat(h.get("no-switch").getStatus().conditions).anyMatch(c -> "BootstrapFailed".equals(c.reason));
    assertThat(h.get("no-switch").getStatus().message).contains("dead-man's switch");
    assertThat(h.get("no-switch").getStatus().logTail).noneMatch(l -> l.contains("training on"));
    assertThat(h.fake.notTerminated()).isEmpty();
  }

  @Test
  void anS3UriWithoutAnInstanceProfileIsRefusedBeforeAnythingIsLaunched() {
    TrainingJob job = Ec2Harness.job("no-profile", SCRIPT);
    job.getSpec().output = new OutputSpec();
    job.getSpec().output.s3Uri = "s3://models/x";
    h.create(job);
    await().atMost(Duration.ofSeconds(30)).until(() -> h.get("no-profile").getStatus() != null
        && h.phase("no-profile") == Phase.Failed);
    assertThat(h.get("no-profile").getStatus().message).contains("instance profile");
    assertThat(h.fake.requests("RunInstances")).isEmpty();
  }

  @Test
  void deletedWhileProvisioningTheInstanceIsTerminatedAndNothingIsLeft() throws Exception {
    h.fake.delays(Duration.ofSeconds(30), Duration.ofMillis(500));
    h.create(Ec2Harness.job("early-delete", SLEEPER));
    await().atMost(Duration.ofSeconds(30)).until(() -> !h.fake.instances().isEmpty()
        && h.phase("early-delete") == Phase.Provisioning);
    h.client().resources(TrainingJob.class).inNamespace("default").withName("early-delete").delete();

    await().atMost(Duration.ofSeconds(60)).until(() -> h.get("early-delete") == null);
    assertNothingLeft();
  }

  @Test
  void deletedWhileRunningTheInstanceIsTerminatedAndNothingIsLeft() throws Exception {
    h.create(Ec2Harness.job("late-delete", SLEEPER));
    await().atMost(Duration.ofSeconds(60)).until(() -> h.phase("late-delete") == Phase.Running);
    h.client().resources(TrainingJob.class).inNamespace("default").withName("late-delete").delete();

    await().atMost(Duration.ofSeconds(60)).until(() -> h.get("late-delete") == null);
    assertNothingLeft();
  }

  @Test
  void anInstanceTerminatedFromOutsideFailsTheJobAndIsCleanedUp() throws Exception {
    h.create(Ec2Harness.job("outside", SLEEPER));
    await().atMost(Duration.ofSeconds(60)).until(() -> h.phase("outside") == Phase.Running);
    h.fake.terminateFromOutside(h.get("outside").getStatus().instance.id);

    await().atMost(Duration.ofSeconds(60)).until(() -> h.phase("outside") == Phase.Failed
        && Conditions.isTrue(h.get("outside").getStatus(), ConditionType.RELEASED));
    assertThat(h.get("outside").getStatus().conditions).anyMatch(c -> "InstanceLost".equals(c.reason));
    assertThat(h.fake.groups()).isEmpty();
    assertThat(h.client().secrets().inNamespace("default").withName("outside-ssh").get()).isNull();
  }

  private void assertNothingLeft() throws Exception {
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      assertThat(h.fake.notTerminated()).isEmpty();
      assertThat(h.fake.groups()).isEmpty();
    });
    assertThat(h.fake.instances()).isNotEmpty();
    assertThat(h.fake.requests("TerminateInstances")).isNotEmpty();
  }
}
