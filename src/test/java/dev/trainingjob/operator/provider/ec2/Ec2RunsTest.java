package dev.trainingjob.operator.provider.ec2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.LimitsSpec;
import dev.trainingjob.operator.api.Timings;
import dev.trainingjob.operator.api.OutputSpec;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.api.TrainingJobStatus;
import dev.trainingjob.operator.fake.ec2.Ec2Harness;
import dev.trainingjob.operator.fake.ec2.FakeEc2;
import dev.trainingjob.operator.fake.ec2.FakeInstance;
import dev.trainingjob.operator.remote.JobRef;
import dev.trainingjob.operator.status.Conditions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import org.junit.jupiter.api.Test;

/**
 * Runs of a job on EC2, on the fake through the real SDK and SSH: spec.suspend stops the run, terminates its instance and
 * deletes what was made for it, and false again launches a new instance (a launch token of its own) where the run goes on
 * from the checkpoint copied to S3; a changed spec that keeps spec.compute and spec.python runs on the same instance; one
 * that changes spec.compute gets a new instance, the old one terminated first.
 */
class Ec2RunsTest extends WithEc2Operator {
  private static final Duration WAIT = Duration.ofSeconds(120);
  /** Says its arguments; runs until stopped unless they say --finish. */
  static final String ARGS = """
      import sys, time
      print("run with", " ".join(sys.argv[1:]), flush=True)
      if "--finish" not in sys.argv:
          while True:
              time.sleep(0.2)
      print("finished", flush=True)
      """;
  /**
   * Ten epochs, the checkpoint saved after each and on the notice (SIGTERM); started again, it goes on from the checkpoint.
   * Attempt 1 stops at epoch 3 and waits there (for the suspension), so nothing races the test.
   */
  static final String EPOCHS = """
      import json, os, signal, sys, time
      ckpt = os.path.join(os.environ["TRAININGJOB_CHECKPOINT_DIR"], "state.json")
      epoch = json.load(open(ckpt))["epoch"] if os.path.exists(ckpt) else 0
      attempt = os.environ["TRAININGJOB_ATTEMPT"]
      print("attempt %s resumed=%s from epoch %d" % (attempt, os.environ["TRAININGJOB_RESUMED"], epoch), flush=True)
      def save():
          json.dump({"epoch": epoch}, open(ckpt + ".tmp", "w"))
          os.replace(ckpt + ".tmp", ckpt)
      def on_notice(sig, frame):
          save()
          print("notice after epoch %d" % epoch, flush=True)
          sys.exit(143)
      signal.signal(signal.SIGTERM, on_notice)
      while epoch < 10:
          time.sleep(0.2)
          if attempt == "1" and epoch >= 3:
              continue
          epoch += 1
          save()
          print("Epoch %d/10" % epoch, flush=True)
      open(os.path.join(os.environ["TRAININGJOB_OUTPUT_DIR"], "model.json"), "w").write(json.dumps({"epoch": epoch}))
      print("saved model", flush=True)
      """;

  private TrainingJobStatus status(String name) {
    TrainingJob job = h.get(name);
    return job == null || job.getStatus() == null ? new TrainingJobStatus() : job.getStatus();
  }

  private void edit(String name, Consumer<TrainingJob> change) {
    h.client().resources(TrainingJob.class).inNamespace(Ec2Harness.NS).withName(name).edit(j -> {
      change.accept(j);
      return j;
    });
  }

  private List<FakeInstance> instancesOf(TrainingJob job) {
    return h.fake.instances().stream().filter(i -> job.getMetadata().getUid().equals(i.tags.get(Ec2Tags.UID))).toList();
  }

  private List<FakeEc2.Group> groupsOf(TrainingJob job) {
    return h.fake.groups().stream().filter(g -> job.getMetadata().getUid().equals(g.tags().get(Ec2Tags.UID))).toList();
  }

  private boolean keySecretExists(String name) {
    return h.client().secrets().inNamespace(Ec2Harness.NS).withName(name + "-ssh").get() != null;
  }

  /** The job's output.log on the instance. */
  private static String log(FakeInstance instance, TrainingJob job) throws java.io.IOException {
    Path log = instance.home().resolve(JobRef.of(job).directory()).resolve("output.log");
    return Files.exists(log) ? Files.readString(log) : "";
  }

  private boolean releasedIn(String name, Phase phase) {
    var s = status(name);
    return s.phase == phase && Conditions.isTrue(s, ConditionType.RELEASED);
  }

  /** The index in the fake's request log of the first request of this action whose parameters hold this value. */
  private int firstRequest(String action, String value) {
    var all = h.fake.requests();
    return IntStream.range(0, all.size()).filter(i -> all.get(i).action().equals(action) && all.get(i).params().containsValue(value))
        .findFirst().orElse(-1);
  }

  /**
   * spec.suspend on a running job: the run stops (its checkpoint copied to S3), the instance is terminated, its security group
   * and key Secret deleted, and the job waits in Suspended; false again launches a new instance with a new client token, where
   * attempt 2 goes on from the checkpoint and succeeds.
   */
  @Test
  void suspendTerminatesTheInstanceAndResumeLaunchesANewOneThatGoesOnFromTheCheckpoint() throws Exception {
    h.stopOperator();
    h.config = h.config.with(c -> c.ec2.instanceProfile = "trainingjob-instance"); // the checkpoint goes to S3 and back
    h.startOperator();
    TrainingJob spec = Ec2Harness.job("pause", EPOCHS);
    spec.getSpec().output = new OutputSpec();
    spec.getSpec().output.paths = List.of("output/model.json");
    spec.getSpec().output.s3Uri = "s3://models/pause";
    spec.getSpec().limits = new LimitsSpec();
    spec.getSpec().limits.maxRuntimeSeconds = 3600L;
    TrainingJob job = h.create(spec);
    String uid = job.getMetadata().getUid();

    await().atMost(WAIT).until(() -> instancesOf(job).size() == 1 && log(instancesOf(job).get(0), job).contains("Epoch 3/10"));
    FakeInstance first = instancesOf(job).get(0);
    assertThat(groupsOf(job)).hasSize(1);
    assertThat(keySecretExists("pause")).isTrue();

    edit("pause", j -> j.getSpec().suspend = true);
    await().atMost(WAIT).until(() -> status("pause").phase == Phase.Suspended && status("pause").instance == null
        && Conditions.isTrue(status("pause"), ConditionType.RELEASED));
    var suspended = status("pause");
    assertThat(Conditions.isTrue(suspended, ConditionType.SUSPENDED)).isTrue();
    assertThat(h.fake.instance(first.id).state()).isEqualTo("terminated");
    assertThat(h.fake.notTerminated()).noneMatch(i -> uid.equals(i.tags.get(Ec2Tags.UID)));
    assertThat(groupsOf(job)).as("the job's security group is deleted").isEmpty();
    assertThat(keySecretExists("pause")).as("the job's key Secret is deleted").isFalse();
    assertThat(suspended.attempts).extracting(a -> a.number + ":" + a.reason).containsExactly("1:Suspended");
    assertThat(suspended.attempts.get(0).instanceId).isEqualTo(first.id);
    assertThat(log(first, job)).as("the script got the notice").contains("notice after epoch 3");
    Path checkpoint = h.fake.s3Root().resolve("models/pause/checkpoints/state.json");
    assertThat(checkpoint).as("copied to S3 when the run stopped").exists();
    assertThat(h.fake.requests("RunInstances").stream().filter(r -> r.params().get("ClientToken").startsWith(uid))).hasSize(1);
    // nothing is launched while the job stays suspended
    assertThat(instancesOf(job)).hasSize(1);

    edit("pause", j -> j.getSpec().suspend = false);
    await().atMost(WAIT).until(() -> releasedIn("pause", Phase.Succeeded));
    var s = status("pause");
    List<FakeInstance> launched = instancesOf(job);
    assertThat(launched).hasSize(2);
    FakeInstance second = launched.get(1);
    assertThat(second.id).isNotEqualTo(first.id);
    assertThat(second.clientToken).as("a new token: EC2 must not hand back the terminated instance").isNotEqualTo(first.clientToken)
        .startsWith(uid);
    assertThat(s.attempt).isEqualTo(2);
    assertThat(s.attempts).extracting(a -> a.number + ":" + a.reason).containsExactly("1:Suspended", "2:Succeeded");
    assertThat(s.attempts.get(1).instanceId).isEqualTo(second.id).isEqualTo(s.instance.id);
    assertThat(Conditions.find(s, ConditionType.SUSPENDED).reason).isEqualTo("Resumed");
    assertThat(s.runs == null ? List.of() : s.runs).as("suspend and resume are one run").isEmpty();
    // the checkpoint came from S3 to the new instance: epochs 4 to 10 ran there, once each
    String log = log(second, job);
    assertThat(log).contains("attempt 2 resumed=1 from epoch 3");
    for (int epoch = 1; epoch <= 10; epoch++) {
      String line = "Epoch " + epoch + "/10";
      assertThat(log.lines().filter(line::equals).count()).as(line + " in\n" + log).isEqualTo(epoch <= 3 ? 0 : 1);
    }
    assertThat(h.fake.s3Root().resolve("models/pause/output/model.json")).hasContent("{\"epoch\": 10}");
    assertThat(h.fake.notTerminated()).noneMatch(i -> uid.equals(i.tags.get(Ec2Tags.UID)));
    assertThat(groupsOf(job)).isEmpty();
    assertThat(keySecretExists("pause")).isFalse();
    // the new instance's guard powers it off at maxRuntimeSeconds + grace from the first attempt's start, the time away added
    long ceiling = Long.parseLong(Files.readString(second.guardState().resolve("job/ceiling")).trim());
    long due = Instant.parse(s.timings.bootstrapped).getEpochSecond() + s.timings.suspendedSeconds + 4500;
    assertThat(s.timings.suspendedSeconds).isNotNegative();
    assertThat(ceiling - due).isBetween(-30L, 30L);
  }

  /**
   * The power-off ceiling a resumed job's new instance gets counts the runtime its attempts used, not the time it spent
   * suspended: two hours away after ten minutes' work leave it 3600 - 600 s, plus the grace, as the operator's own
   * maxRuntimeSeconds deadline does (not the bare grace, which would power the instance off mid-run).
   */
  @Test
  void aResumedJobsNewInstanceGetsTheRuntimeLeftNotCountingTheTimeSuspended() {
    TrainingJob job = Ec2Harness.job("resumed", ARGS);
    job.setMetadata(new ObjectMetaBuilder(job.getMetadata()).withNamespace(Ec2Harness.NS).withUid("0f0e0d0c-resumed").build());
    job.getSpec().limits = new LimitsSpec();
    job.getSpec().limits.maxRuntimeSeconds = 3600L;
    job.setStatus(new TrainingJobStatus());
    job.getStatus().timings = new Timings();
    Instant now = Instant.now();
    job.getStatus().timings.bootstrapped = now.minus(Duration.ofSeconds(600 + 7200)).toString();
    job.getStatus().timings.suspendedSeconds = 7200L;
    Long ceiling = h.provider.duties(job).ceilingSeconds();
    assertThat(ceiling).isBetween(3600L - 600 + 900 - 5, 3600L - 600 + 900);

    job.getStatus().timings.suspendedSeconds = null; // never suspended: all of it was the script's
    assertThat(h.provider.duties(job).ceilingSeconds()).as("only the grace is left").isEqualTo(900L);
  }

  /**
   * New arguments while the job runs: the run stops, and the next one runs on the same instance (one launch), its arguments
   * those of the new spec; status.runs keeps the first, stopped as SpecChanged.
   */
  @Test
  void newArgumentsRunOnTheSameInstance() throws Exception {
    TrainingJob spec = Ec2Harness.job("reargs", ARGS);
    spec.getSpec().script.args = List.of("--lr", "0.1");
    TrainingJob job = h.create(spec);
    await().atMost(WAIT).until(() -> h.phase("reargs") == Phase.Running && instancesOf(job).size() == 1
        && log(instancesOf(job).get(0), job).contains("run with --lr 0.1"));
    FakeInstance instance = instancesOf(job).get(0);
    assertThat(log(instance, job)).as("run 1 prepared Python").contains("python is ready");

    edit("reargs", j -> j.getSpec().script.args = List.of("--lr", "0.2", "--finish"));
    await().atMost(WAIT).until(() -> releasedIn("reargs", Phase.Succeeded));
    var s = status("reargs");
    assertThat(s.runs).hasSize(1);
    assertThat(s.runs.get(0).reason).isEqualTo("SpecChanged");
    assertThat(s.runs.get(0).phase).isEqualTo("Stopped");
    assertThat(s.runs.get(0).number).isEqualTo(1);
    assertThat(s.run.number).isEqualTo(2);
    assertThat(s.instance.id).isEqualTo(instance.id);
    assertThat(instancesOf(job)).as("one instance for both runs").hasSize(1);
    assertThat(h.fake.requests("RunInstances").stream().filter(r -> r.params().get("ClientToken").startsWith(job.getMetadata().getUid())))
        .hasSize(1);
    assertThat(s.logTail).anyMatch(l -> l.contains("run with --lr 0.2 --finish")).anyMatch(l -> l.contains("finished"));
    assertThat(s.logTail).noneMatch(l -> l.contains("run with --lr 0.1"));
    assertThat(s.logTail).as("Python was prepared by run 1").noneMatch(l -> l.contains("python is ready"));
    assertThat(h.fake.instance(instance.id).state()).isEqualTo("terminated");
    assertThat(groupsOf(job)).isEmpty();
  }

  /**
   * A new instance type while the job runs: the run stops, the instance is terminated (and EC2 says so) before the new one is
   * launched with a new token, and the new run ends Succeeded there.
   */
  @Test
  void aNewInstanceTypeTerminatesTheOldInstanceBeforeTheNewOneIsLaunched() throws Exception {
    TrainingJob job = h.create(Ec2Harness.job("retype", ARGS));
    await().atMost(WAIT).until(() -> h.phase("retype") == Phase.Running && instancesOf(job).size() == 1
        && log(instancesOf(job).get(0), job).contains("run with"));
    FakeInstance old = instancesOf(job).get(0);
    assertThat(old.instanceType).isEqualTo("g5.xlarge");

    edit("retype", j -> {
      j.getSpec().compute.ec2.instanceType = "g5.2xlarge";
      j.getSpec().script.args = List.of("--finish");
    });
    await().atMost(WAIT).until(() -> releasedIn("retype", Phase.Succeeded) && status("retype").run.number == 2);
    var s = status("retype");
    List<FakeInstance> launched = instancesOf(job);
    assertThat(launched).hasSize(2);
    FakeInstance next = launched.get(1);
    assertThat(next.instanceType).isEqualTo("g5.2xlarge");
    assertThat(next.clientToken).isNotEqualTo(old.clientToken);
    assertThat(s.instance.id).isEqualTo(next.id);
    assertThat(s.instance.type).isEqualTo("g5.2xlarge");
    assertThat(s.runs).singleElement().satisfies(r -> {
      assertThat(r.reason).isEqualTo("SpecChanged");
      assertThat(r.phase).isEqualTo("Stopped");
    });
    // the old instance was terminated, and seen terminated, before the new one was asked for
    int terminate = firstRequest("TerminateInstances", old.id);
    int launch = firstRequest("RunInstances", next.clientToken);
    assertThat(terminate).isNotNegative().isLessThan(launch);
    assertThat(h.fake.requests().subList(terminate, launch)).as("the group of the old instance deleted in between")
        .anyMatch(r -> r.action().equals("DeleteSecurityGroup"));
    assertThat(s.logTail).anyMatch(l -> l.contains("finished"));
    assertThat(h.fake.notTerminated()).noneMatch(i -> job.getMetadata().getUid().equals(i.tags.get(Ec2Tags.UID)));
    assertThat(groupsOf(job)).isEmpty();
  }
}
