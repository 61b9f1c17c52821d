package dev.trainingjob.operator.e2e;

import dev.trainingjob.operator.api.ConditionType;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.Assembly;
import dev.trainingjob.operator.OperatorRuntime;
import dev.trainingjob.operator.api.ComputeSpec;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.embedded.EmbeddedKubernetes;
import dev.trainingjob.operator.provider.host.HostProvider;
import dev.trainingjob.operator.status.Conditions;
import dev.trainingjob.operator.remote.JobRef;
import dev.trainingjob.operator.support.Connections;
import dev.trainingjob.operator.support.Jobs;
import dev.trainingjob.operator.support.SshPeer;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A machine that already exists, reached with the key in a Secret and the host key in the spec. */
class HostProviderTest {
  @TempDir
  Path tmp;
  private EmbeddedKubernetes api;
  private OperatorRuntime operator;
  private SshPeer.Mina box;

  @BeforeEach
  void start() throws Exception {
    box = new SshPeer.Mina(tmp.resolve("gpu-box"));
    api = new EmbeddedKubernetes().start(0);
    ByteArrayOutputStream pem = new ByteArrayOutputStream();
    OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(box.clientKey, "me@laptop", null, pem);
    api.client().secrets().inNamespace("default").resource(new SecretBuilder().withNewMetadata().withName("box-key").endMetadata()
        .withType("kubernetes.io/ssh-auth").addToStringData(HostProvider.KEY_FIELD, pem.toString(StandardCharsets.UTF_8)).build()).create();
    operator = Assembly.start(api.client(), OperatorConfig.defaults().with(c -> {
      c.defaultProvider = "local";
      c.localProvider = true;
      c.pollInterval = c.probeInterval = Duration.ofMillis(500);
      c.metricsPort = -1;
      c.outputDir = tmp.resolve("outputs");
      c.localWorkRoot = tmp.resolve("local");
    }));
  }

  @AfterEach
  void stop() throws Exception {
    operator.close();
    api.close();
    box.close();
  }

  private TrainingJob hostJob(String name, PublicKey hostKey) {
    return hostJob(name, hostKey, "box-key");
  }

  private TrainingJob hostJob(String name, PublicKey hostKey, String keySecret) {
    return hostJob(name, hostKey, keySecret, "open('model.txt', 'w').write('trained on the box')\nprint('done')\n", null);
  }

  private TrainingJob hostJob(String name, PublicKey hostKey, String keySecret, String script, Long maxRuntimeSeconds) {
    TrainingJob job = Jobs.inline(name, "train.py", Map.of("train.py", script));
    if (maxRuntimeSeconds != null) {
      job.getSpec().limits = new dev.trainingjob.operator.api.LimitsSpec();
      job.getSpec().limits.maxRuntimeSeconds = maxRuntimeSeconds;
    }
    job.getSpec().compute = new ComputeSpec();
    var h = job.getSpec().compute.host = new ComputeSpec.HostSpec();
    h.address = box.target().host();
    h.port = box.target().port();
    h.user = "trainer";
    h.privateKeySecret = keySecret;
    h.hostKey = PublicKeyEntry.toString(hostKey);
    job.getSpec().output = new dev.trainingjob.operator.api.OutputSpec();
    job.getSpec().output.paths = List.of("model.txt");
    return api.client().resources(TrainingJob.class).inNamespace("default").resource(job).create();
  }

  private TrainingJob awaitReleased(String name) {
    var jobs = api.client().resources(TrainingJob.class).inNamespace("default");
    await().atMost(Duration.ofSeconds(90)).until(() -> {
      TrainingJob j = jobs.withName(name).get();
      return j.getStatus() != null && j.getStatus().phase != null && j.getStatus().phase.isFinal()
          && Conditions.isTrue(j.getStatus(), ConditionType.RELEASED);
    });
    return jobs.withName(name).get();
  }

  @Test
  void aJobRunsOnTheHostItsOutputsAreCollectedAndTheHostIsLeftClean() throws Exception {
    hostJob("on-the-box", box.server.hostKey());

    TrainingJob job = awaitReleased("on-the-box");

    assertThat(job.getStatus().phase).isEqualTo(Phase.Succeeded);
    assertThat(job.getStatus().instance.type).isEqualTo("host");
    assertThat(job.getStatus().attachCommand).startsWith("ssh -p " + box.target().port() + " trainer@");
    assertThat(tmp.resolve("outputs/default/on-the-box/model.txt")).hasContent("trained on the box");
    assertThat(box.home().resolve(JobRef.of(job).directory())).doesNotExist();
    assertThat(box.home()).isDirectory(); // the machine and its user stay
    // and the operator keeps no connection to it: nothing logged in stays behind for the next job to find
    await().atMost(Duration.ofSeconds(30)).until(() -> Connections.established(box.target().host(), box.target().port()) == 0);
  }

  /** A script that saves its model, says so, and then trains on (sleeps) until something ends it; exits 2 with "fail". */
  private static final String SAVES_THEN_TRAINS = """
      import sys, time
      open('model.txt', 'w').write('epoch 1')
      print('saved epoch 1', flush=True)
      if sys.argv[1:] == ['fail']:
          raise SystemExit(2)
      time.sleep(600)
      """;

  /**
   * Every ending keeps what the script wrote, collected into the operator's directory before the host is cleaned: a
   * script that fails, one stopped at its max runtime, one whose driver is killed (no exit record), one a person
   * interrupts with Ctrl-C. The four run side by side on one operator.
   */
  @Test
  void everyEndingHasItsOutputsCollectedBeforeTheHostIsCleaned() throws Exception {
    hostJob("fails", box.server.hostKey(), "box-key", SAVES_THEN_TRAINS.replace("sys.argv[1:] == ['fail']", "True"), null);
    hostJob("too-long", box.server.hostKey(), "box-key", SAVES_THEN_TRAINS, 10L); // ample for the model to be saved
    TrainingJob lost = hostJob("lost", box.server.hostKey(), "box-key", SAVES_THEN_TRAINS, null);
    TrainingJob interrupted = hostJob("ctrl-c", box.server.hostKey(), "box-key", SAVES_THEN_TRAINS, null);

    awaitLogLine("lost", "saved epoch 1");
    Path lostDir = box.home().resolve(JobRef.of(lost).directory());
    long driver = Long.parseLong(java.nio.file.Files.readString(lostDir.resolve("driver.pid")).strip());
    ProcessHandle.of(driver).orElseThrow().destroyForcibly(); // the machine's OOM killer, or a person, took the driver
    awaitLogLine("ctrl-c", "saved epoch 1");
    // a person attached to the session presses Ctrl-C
    Process ctrlC = new ProcessBuilder("screen", "-S", JobRef.of(interrupted).sessionName(), "-p", "0", "-X", "stuff", "\u0003")
        .redirectErrorStream(true).start();
    assertThat(ctrlC.waitFor()).isZero();

    TrainingJob fails = awaitReleased("fails");
    assertThat(Conditions.find(fails.getStatus(), ConditionType.FAILED).reason).isEqualTo("ScriptFailed");
    assertThat(tmp.resolve("outputs/default/fails/model.txt")).hasContent("epoch 1");
    assertThat(fails.getStatus().outputs.collected).containsExactly("model.txt");
    assertThat(box.home().resolve(JobRef.of(fails).directory())).doesNotExist();

    TrainingJob tooLong = awaitReleased("too-long");
    assertThat(Conditions.find(tooLong.getStatus(), ConditionType.FAILED).reason).isEqualTo("MaxRuntimeExceeded");
    assertThat(tmp.resolve("outputs/default/too-long/model.txt")).hasContent("epoch 1");
    assertThat(tooLong.getStatus().message).contains("outputs collected to " + tmp.resolve("outputs/default/too-long") + " (1 of 1)");
    assertThat(box.home().resolve(JobRef.of(tooLong).directory())).doesNotExist();

    TrainingJob driverLost = awaitReleased("lost");
    assertThat(Conditions.find(driverLost.getStatus(), ConditionType.FAILED).reason).isEqualTo("DriverLost");
    assertThat(tmp.resolve("outputs/default/lost/model.txt")).hasContent("epoch 1");
    assertThat(driverLost.getStatus().outputs.collected).containsExactly("model.txt");
    assertThat(lostDir).as("and then the host is left clean, the orphaned script stopped").doesNotExist();

    TrainingJob ctrlCed = awaitReleased("ctrl-c");
    assertThat(ctrlCed.getStatus().failure.category).isEqualTo(dev.trainingjob.operator.api.FailureStatus.Category.Interrupted);
    assertThat(tmp.resolve("outputs/default/ctrl-c/model.txt")).hasContent("epoch 1");
    assertThat(ctrlCed.getStatus().outputs.collected).containsExactly("model.txt");
  }

  /** Exits 3 on its first attempt; the next writes its model from the checkpoint the first left. */
  private static final String FAILS_ONCE = """
      import os, sys
      ckpt = os.environ["TRAININGJOB_CHECKPOINT_DIR"]
      if os.environ["TRAININGJOB_ATTEMPT"] == "1":
          open(os.path.join(ckpt, "step"), "w").write("50")
          print("attempt 1 fails", flush=True)
          sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
      open("model.txt", "w").write("resumed=%s from step %s" % (os.environ["TRAININGJOB_RESUMED"], open(os.path.join(ckpt, "step")).read()))
      """;

  /** Counts epochs, saving the count on the notice (SIGTERM); resumed from it, it finishes. */
  private static final String RESUMABLE = """
      import os, signal, sys, time
      state = os.path.join(os.environ["TRAININGJOB_CHECKPOINT_DIR"], "epoch")
      epoch = int(open(state).read()) if os.path.exists(state) else 0
      print("attempt %s starts at epoch %d" % (os.environ["TRAININGJOB_ATTEMPT"], epoch), flush=True)
      def on_notice(sig, frame):
          open(state, "w").write(str(epoch))
          sys.exit(143)
      signal.signal(signal.SIGTERM, on_notice)
      if epoch >= 3:
          open("model.txt", "w").write("finished after epoch %d" % epoch)
          sys.exit(0)
      while True:
          epoch += 1
          print("epoch %d" % epoch, flush=True)
          time.sleep(0.2 if epoch < 3 else 1)
      """;

  /**
   * spec.retry runs a script that exited with a listed code again on the same machine, its checkpoint directory intact; a
   * code not listed ends the job. kubectl trainingjob interrupt (its annotation) gives a running script the notice, and the
   * job resumes as its next attempt from the checkpoint the script saved. The three run side by side on one operator.
   */
  @Test
  void retriesByExitCodeAndAnInterruptOnPurposeResumeOnTheSameHost() throws Exception {
    var jobs = api.client().resources(TrainingJob.class).inNamespace("default");
    for (String name : List.of("retried", "not-retried")) {
      TrainingJob job = Jobs.inline(name, "train.py", Map.of("train.py", FAILS_ONCE));
      if (name.equals("not-retried")) {
        job.getSpec().script.args = List.of("4");
      }
      job.getSpec().retry = new dev.trainingjob.operator.api.RetrySpec();
      job.getSpec().retry.maxRetries = 2;
      job.getSpec().retry.onExitCodes = List.of(3);
      job.getSpec().retry.backoffSeconds = 1L;
      onTheBox(job);
    }
    onTheBox(Jobs.inline("interrupted", "train.py", Map.of("train.py", RESUMABLE)));

    // past epoch 3: a line that stays true (the tail scrolls: "epoch 3" itself leaves it while the status is not written)
    awaitLogLineMatching("interrupted", "epoch ([3-9]|[1-9][0-9]+)");
    jobs.withName("interrupted").edit(j -> {
      j.getMetadata().getAnnotations().put(dev.trainingjob.operator.api.Annotations.INTERRUPT, "2026-11-27T09:00:00Z");
      return j;
    });

    TrainingJob retried = awaitReleased("retried");
    assertThat(retried.getStatus().phase).isEqualTo(Phase.Succeeded);
    assertThat(retried.getStatus().attempt).isEqualTo(2);
    assertThat(retried.getStatus().attempts).extracting(a -> a.number + ":" + a.reason + ":" + a.exitCode)
        .containsExactly("1:ExitCode:3", "2:Succeeded:0");
    assertThat(tmp.resolve("outputs/default/retried/model.txt")).hasContent("resumed=1 from step 50");

    TrainingJob notRetried = awaitReleased("not-retried");
    assertThat(Conditions.find(notRetried.getStatus(), ConditionType.FAILED).reason).isEqualTo("ScriptFailed");
    assertThat(notRetried.getStatus().attempt).isEqualTo(1);
    assertThat(notRetried.getStatus().exitCode).isEqualTo(4);

    TrainingJob interrupted = awaitReleased("interrupted");
    assertThat(interrupted.getStatus().phase).isEqualTo(Phase.Succeeded);
    assertThat(interrupted.getStatus().attempt).isEqualTo(2);
    assertThat(interrupted.getStatus().attempts).extracting(a -> a.reason).containsExactly("Interrupted", "Succeeded");
    assertThat(Conditions.isTrue(interrupted.getStatus(), ConditionType.INTERRUPTED)).isTrue();
    // from the epoch the notice found it at (3 or later, as late as the machine is slow)
    assertThat(tmp.resolve("outputs/default/interrupted/model.txt")).content().matches("finished after epoch ([3-9]|\\d{2,})");
    assertThat(interrupted.getStatus().logTail).anySatisfy(l -> assertThat(l).matches("attempt 2 starts at epoch ([3-9]|\\d{2,})"));
  }

  private void onTheBox(TrainingJob job) {
    job.getSpec().compute = new ComputeSpec();
    var h = job.getSpec().compute.host = new ComputeSpec.HostSpec();
    h.address = box.target().host();
    h.port = box.target().port();
    h.user = "trainer";
    h.privateKeySecret = "box-key";
    h.hostKey = PublicKeyEntry.toString(box.server.hostKey());
    job.getSpec().output = new dev.trainingjob.operator.api.OutputSpec();
    job.getSpec().output.paths = List.of("model.txt");
    if (job.getMetadata().getAnnotations() == null) {
      job.getMetadata().setAnnotations(new java.util.HashMap<>());
    }
    api.client().resources(TrainingJob.class).inNamespace("default").resource(job).create();
  }

  private void awaitLogLineMatching(String name, String regex) {
    var jobs = api.client().resources(TrainingJob.class).inNamespace("default");
    await().atMost(Duration.ofSeconds(90)).until(() -> {
      var s = jobs.withName(name).get().getStatus();
      return s != null && s.logTail != null && s.logTail.stream().anyMatch(l -> l.matches(regex));
    });
  }

  private void awaitLogLine(String name, String line) {
    var jobs = api.client().resources(TrainingJob.class).inNamespace("default");
    await().atMost(Duration.ofSeconds(90)).until(() -> {
      var s = jobs.withName(name).get().getStatus();
      return s != null && s.logTail != null && s.logTail.contains(line);
    });
  }

  @Test
  void aHostPresentingAnotherKeyIsRefusedAndNothingRunsThere() throws Exception {
    hostJob("impostor", SshPeer.rsa().getPublic());

    TrainingJob job = awaitReleased("impostor");

    assertThat(job.getStatus().phase).isEqualTo(Phase.Failed);
    var failed = Conditions.find(job.getStatus(), ConditionType.FAILED);
    assertThat(failed.reason).isEqualTo("HostKeyMismatch");
    assertThat(failed.message).contains("Refusing to connect");
    assertThat(box.home().resolve(".trainingjob")).doesNotExist();
  }

  @Test
  void aJobWhoseKeySecretIsMissingWaitsNamingItAndCanBeDeleted() throws Exception {
    hostJob("no-key", box.server.hostKey(), "no-such-secret");
    var jobs = api.client().resources(TrainingJob.class).inNamespace("default");

    await().atMost(Duration.ofSeconds(60)).until(() -> {
      TrainingJob j = jobs.withName("no-key").get();
      return j.getStatus() != null && j.getStatus().message != null && j.getStatus().message.contains("no-such-secret");
    });
    TrainingJob job = jobs.withName("no-key").get();
    assertThat(job.getStatus().phase).isEqualTo(Phase.Pending);
    assertThat(job.getStatus().message).contains("spec.compute.host.privateKeySecret");
    assertThat(box.home().resolve(JobRef.of(job).directory())).doesNotExist();

    jobs.withName("no-key").delete();
    await().atMost(Duration.ofSeconds(60)).until(() -> jobs.withName("no-key").get() == null);
  }
}
