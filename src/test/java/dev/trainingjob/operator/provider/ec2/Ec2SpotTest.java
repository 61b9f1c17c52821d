package dev.trainingjob.operator.provider.ec2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.api.CheckpointSpec;
import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.OutputSpec;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.api.TrainingJobStatus;
import dev.trainingjob.operator.fake.ec2.Ec2Harness;
import dev.trainingjob.operator.fake.ec2.FakeEc2;
import dev.trainingjob.operator.fake.ec2.FakeInstance;
import dev.trainingjob.operator.status.Conditions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Spot training that finishes, on the fake EC2 through the real SDK: an interruption notice from the instance's metadata
 * service, the checkpoint copied to S3 and restored on a new instance, the on-demand fallback, and a hard termination that
 * resumes from the last periodic copy.
 */
class Ec2SpotTest extends WithEc2Operator {
  private static final Duration WAIT = Duration.ofSeconds(120);
  /** Ten epochs, a checkpoint after each and on the notice (SIGTERM); started again, it goes on from the checkpoint. */
  static final String TEN_EPOCHS = """
      import json, os, signal, sys, time
      ckpt = os.path.join(os.environ["TRAININGJOB_CHECKPOINT_DIR"], "state.json")
      epoch = json.load(open(ckpt))["epoch"] if os.path.exists(ckpt) else 0
      print("attempt %s resumed=%s from epoch %d" % (os.environ["TRAININGJOB_ATTEMPT"], os.environ["TRAININGJOB_RESUMED"], epoch), flush=True)
      def save():
          json.dump({"epoch": epoch}, open(ckpt + ".tmp", "w"))
          os.replace(ckpt + ".tmp", ckpt)
      def on_notice(sig, frame):
          save()
          print("notice after epoch %d" % epoch, flush=True)
          sys.exit(143)
      signal.signal(signal.SIGTERM, on_notice)
      progress = open(os.environ["TRAININGJOB_PROGRESS_FILE"], "a")
      while epoch < 10:
          time.sleep(float(os.environ.get("SECONDS_PER_EPOCH", "0.5")))
          epoch += 1
          save()
          print("Epoch %d/10" % epoch, flush=True)
          progress.write(json.dumps({"epoch": epoch, "epochs": 10}) + "\\n")
          progress.flush()
      open(os.path.join(os.environ["TRAININGJOB_OUTPUT_DIR"], "model.json"), "w").write(json.dumps({"epoch": epoch}))
      print("saved model", flush=True)
      """;

  @BeforeEach
  void withAnInstanceProfile() {
    // the instances copy to S3 with their own role
    h.stopOperator();
    h.config = h.config.with(c -> c.ec2.instanceProfile = "trainingjob-instance");
    h.startOperator();
  }

  /** Trains until it is interrupted, except on attempt 5, which finishes at once. */
  static final String UNTIL_ATTEMPT_FIVE = """
      import os, time
      if os.environ["TRAININGJOB_ATTEMPT"] != "5":
          time.sleep(600)
      print("finished on attempt", os.environ["TRAININGJOB_ATTEMPT"], flush=True)
      """;

  private TrainingJob spotJob(String name, String secondsPerEpoch) {
    return spotJob(name, secondsPerEpoch, TEN_EPOCHS);
  }

  private TrainingJob spotJob(String name, String secondsPerEpoch, String script) {
    TrainingJob job = Ec2Harness.job(name, script);
    job.getSpec().compute.ec2.spot = true;
    job.getSpec().output = new OutputSpec();
    job.getSpec().output.paths = List.of("output/model.json");
    job.getSpec().output.s3Uri = "s3://models/" + name;
    var env = new dev.trainingjob.operator.api.EnvVarSpec();
    env.name = "SECONDS_PER_EPOCH";
    env.value = secondsPerEpoch;
    job.getSpec().env = List.of(env);
    return job;
  }

  private TrainingJobStatus status(String name) {
    TrainingJob job = h.get(name);
    return job == null || job.getStatus() == null ? new TrainingJobStatus() : job.getStatus();
  }

  private boolean releasedIn(String name, Phase phase) {
    var s = status(name);
    return s.phase == phase && Conditions.isTrue(s, ConditionType.RELEASED);
  }

  /** The job's output.log on the instance, as a person logged in there would read it. */
  private static String log(FakeInstance instance, TrainingJob job) throws java.io.IOException {
    Path log = instance.home().resolve(dev.trainingjob.operator.remote.JobRef.of(job).directory()).resolve("output.log");
    return Files.exists(log) ? Files.readString(log) : "";
  }

  /** The epoch the second attempt resumed from, after checking every later epoch ran once there and none before it. */
  private static int resumedFrom(TrainingJobStatus s) {
    String log = String.join("\n", s.logTail);
    var m = Pattern.compile("attempt 2 resumed=1 from epoch (\\d+)").matcher(log);
    assertThat(m.find()).as(log).isTrue();
    int from = Integer.parseInt(m.group(1));
    for (int epoch = 1; epoch <= 10; epoch++) {
      String line = "Epoch " + epoch + "/10";
      assertThat(log.lines().filter(line::equals).count()).as(line + " in\n" + log).isEqualTo(epoch <= from ? 0 : 1);
    }
    return from;
  }

  private List<FakeInstance> instancesOf(TrainingJob job) {
    return h.fake.instances().stream().filter(i -> job.getMetadata().getUid().equals(i.tags.get(Ec2Tags.UID))).toList();
  }

  /**
   * A notice at epoch 3 (through the instance's metadata service) and a hard termination without one, the two jobs side by
   * side: each resumes on a second instance from its checkpoint (the one copied at the notice, the last periodic copy), and
   * the epochs after it run once there.
   */
  @Test
  void interruptedSpotJobsResumeFromTheirCheckpointsOnASecondInstance() throws Exception {
    h.fake.setSpotPrice("g5.xlarge", FakeEc2.ZONES.get(0), "0.2345");
    int priceCalls = h.fake.requests("DescribeSpotPriceHistory").size();
    TrainingJob job = h.create(spotJob("notice", "2"));
    TrainingJob hardJob = spotJob("hard", "2");
    hardJob.getSpec().checkpoint = new CheckpointSpec();
    hardJob.getSpec().checkpoint.syncIntervalSeconds = CheckpointSpec.MIN_SYNC_INTERVAL_SECONDS;
    TrainingJob hard = h.create(hardJob);

    await().atMost(WAIT).until(() -> instancesOf(job).size() == 1 && log(instancesOf(job).get(0), job).contains("Epoch 3/10"));
    String first = instancesOf(job).get(0).id;
    h.fake.interruptSpot(first, Duration.ofSeconds(30));
    Path copied = h.fake.s3Root().resolve("models/hard/checkpoints/state.json");
    await().atMost(WAIT).until(() -> Files.exists(copied) && Files.readString(copied).matches("\\{\"epoch\": [3-9]\\}"));
    h.fake.interruptSpot(instancesOf(hard).get(0).id); // gone at once: no notice, no copy at the end

    await().atMost(WAIT).until(() -> releasedIn("notice", Phase.Succeeded));
    var s = status("notice");
    int from = resumedFrom(s);
    assertThat(from).isGreaterThanOrEqualTo(3);
    assertThat(s.attempt).isEqualTo(2);
    assertThat(s.interruptions).isEqualTo(1);
    assertThat(s.attempts).extracting(a -> a.number + ":" + a.reason).containsExactly("1:SpotInterrupted", "2:Succeeded");
    assertThat(s.attempts.get(0).instanceId).isEqualTo(first);
    assertThat(s.attempts.get(0).exitCode).as("the script stopped on the notice").isEqualTo(143);
    assertThat(s.attempts.get(1).instanceId).isNotEqualTo(first).isEqualTo(s.instance.id);
    assertThat(s.attempts).allSatisfy(a -> assertThat(a.spot).isTrue());
    assertThat(s.attempts.stream().mapToDouble(a -> a.costUSD).sum()).isCloseTo(s.cost.totalUSD, within(0.011));
    // priced from EC2's spot price history for the type in the instance's zone, asked once for every job and attempt
    assertThat(s.cost.priceSource).isEqualTo("spot-price-history");
    assertThat(s.cost.pricePerHourUSD).isEqualTo(0.2345);
    assertThat(s.cost.upperBound).isNull();
    assertThat(s.attempts).allSatisfy(a -> assertThat(a.priceSource).isEqualTo("spot-price-history"));
    assertThat(Conditions.isTrue(s, ConditionType.INTERRUPTED)).isTrue();
    // two launches, each with a token of its own
    List<FakeInstance> launched = instancesOf(job);
    assertThat(launched).hasSize(2);
    assertThat(launched.get(0).clientToken).isNotEqualTo(launched.get(1).clientToken);
    assertThat(launched).allSatisfy(i -> assertThat(i.launchParam("InstanceMarketOptions.MarketType")).isEqualTo("spot"));
    // the model of the whole run reached S3, and the checkpoint is there
    assertThat(h.fake.s3Root().resolve("models/notice/output/model.json")).hasContent("{\"epoch\": 10}");
    assertThat(h.fake.s3Root().resolve("models/notice/checkpoints/state.json")).exists();
    assertThat(h.events("notice")).extracting(e -> e.getReason()).contains("Interrupted");

    await().atMost(WAIT).until(() -> releasedIn("hard", Phase.Succeeded));
    var hs = status("hard");
    assertThat(resumedFrom(hs)).isGreaterThanOrEqualTo(3);
    assertThat(hs.attempts).extracting(a -> a.reason).containsExactly("SpotInterrupted", "Succeeded");
    assertThat(hs.attempts.get(0).exitCode).as("the script never recorded an exit there").isNull();
    assertThat(h.fake.notTerminated()).noneMatch(i -> i.tags.get(Ec2Tags.UID) != null
        && (i.tags.get(Ec2Tags.UID).equals(job.getMetadata().getUid()) || i.tags.get(Ec2Tags.UID).equals(hard.getMetadata().getUid())));
    assertThat(hs.cost.priceSource).isEqualTo("spot-price-history");
    assertThat(h.fake.requests("DescribeSpotPriceHistory").size() - priceCalls).as("one type in one zone: one call an hour")
        .isEqualTo(1);
    // the IAM policy in deploy/ allows every call these jobs needed, the spot price history's included
    var allowed = IamPolicyTest.allowed();
    assertThat(h.fake.requests()).extracting(r -> (r.action().equals("GetParameter") ? "ssm:" : "ec2:") + r.action())
        .allMatch(allowed::contains, "allowed by deploy/iam/trainingjob-operator-policy.json " + allowed);
  }

  /**
   * After more interruptions than spec.compute.ec2.maxInterruptions the job goes on on-demand; with onDemandFallback off it
   * ends SpotInterrupted. Interrupted without notice as soon as each attempt runs, the two jobs side by side.
   */
  @Test
  void pastMaxInterruptionsTheJobGoesOnOnDemandOrEndsWhenTheFallbackIsOff() throws Exception {
    TrainingJob fallback = h.create(spotJob("fallback", "0", UNTIL_ATTEMPT_FIVE));
    TrainingJob strict = spotJob("strict", "0", UNTIL_ATTEMPT_FIVE);
    strict.getSpec().compute.ec2.maxInterruptions = 0;
    strict.getSpec().compute.ec2.onDemandFallback = false;
    strict = h.create(strict);

    // each attempt's instance is reclaimed as soon as EC2 runs it (before its script starts: it counts all the same)
    for (int attempt = 1; attempt <= 4; attempt++) {
      int a = attempt;
      // the operator saw it run (past Provisioning): reclaimed earlier, it would be told from the listing's absence, after
      // EC2's eventual-consistency grace, and the test would wait minutes
      await().atMost(WAIT).until(() -> status("fallback").attempt != null && status("fallback").attempt == a
          && status("fallback").instance != null && "running".equals(h.fake.instance(status("fallback").instance.id).state())
          && status("fallback").phase != Phase.Provisioning);
      h.fake.interruptSpot(status("fallback").instance.id);
      if (attempt == 1) {
        await().atMost(WAIT).until(() -> status("strict").instance != null
            && "running".equals(h.fake.instance(status("strict").instance.id).state()) && status("strict").phase != Phase.Provisioning);
        h.fake.interruptSpot(status("strict").instance.id);
      }
    }

    await().atMost(WAIT).until(() -> releasedIn("fallback", Phase.Succeeded));
    var s = status("fallback");
    assertThat(s.attempt).isEqualTo(5);
    assertThat(s.interruptions).isEqualTo(4);
    assertThat(s.onDemandFallback).isTrue();
    List<FakeInstance> launched = instancesOf(fallback);
    assertThat(launched).hasSize(5);
    assertThat(launched.subList(0, 4)).allSatisfy(i -> assertThat(i.launchParam("InstanceMarketOptions.MarketType")).isEqualTo("spot"));
    assertThat(launched.get(4).launchParam("InstanceMarketOptions.MarketType")).as("the fifth attempt is on-demand").isNull();
    assertThat(h.events("fallback")).extracting(e -> e.getReason()).contains("OnDemandFallback");

    await().atMost(WAIT).until(() -> releasedIn("strict", Phase.Failed));
    var failed = status("strict");
    assertThat(Conditions.find(failed, ConditionType.FAILED).reason).isEqualTo("SpotInterrupted");
    assertThat(failed.message).contains("onDemandFallback is false");
    assertThat(instancesOf(strict)).hasSize(1);
    TrainingJob strictJob = strict;
    assertThat(h.fake.notTerminated()).noneMatch(i -> i.tags.get(Ec2Tags.UID) != null
        && (i.tags.get(Ec2Tags.UID).equals(strictJob.getMetadata().getUid()) || i.tags.get(Ec2Tags.UID).equals(fallback.getMetadata().getUid())));
  }
}
