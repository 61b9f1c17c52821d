package dev.trainingjob.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.demo.Demo;
import dev.trainingjob.operator.remote.JobRef;
import dev.trainingjob.operator.status.Conditions;
import dev.trainingjob.operator.support.Kubectl;
import dev.trainingjob.operator.support.Plugin;
import dev.trainingjob.operator.support.Screen;
import io.fabric8.kubernetes.api.model.EventList;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The declarative semantics as a GitOps user meets them, through the real kubectl against `demo --serve`: a re-applied spec
 * is a new run, an edit mid-run restarts on the same machine with its outputs kept, spec.suspend stops and resumes from the
 * checkpoint, and `kubectl trainingjob rerun` runs an unchanged spec again. The operator writes neither spec nor metadata:
 * metadata.generation counts only the user's edits.
 */
class GitOpsRunsEndToEndTest {
  private static final Duration WAIT = Duration.ofSeconds(120);
  @TempDir
  static Path tmp;
  private static Demo demo;
  private static Kubectl kubectl;

  /**
   * Epochs that take a moment each, a checkpoint after each and on the notice, a progress record, and an output file named
   * after the run's epochs (so two runs' outputs can be told apart).
   */
  private static final String SCRIPT = """
      import argparse, json, os, signal, sys, time
      p = argparse.ArgumentParser()
      p.add_argument("--epochs", type=int, default=3)
      p.add_argument("--seconds-per-epoch", type=float, default=0.2)
      a = p.parse_args()
      ckpt = os.path.join(os.environ["TRAININGJOB_CHECKPOINT_DIR"], "state.json")
      os.makedirs(os.path.dirname(ckpt), exist_ok=True)
      state = {"epoch": 0, "epochs": a.epochs}
      if os.path.exists(ckpt):
          with open(ckpt) as f:
              state = json.load(f)
          print(f"resumed from epoch {state['epoch']} (attempt {os.environ.get('TRAININGJOB_ATTEMPT')})", flush=True)
      def save():
          with open(ckpt + ".tmp", "w") as f:
              json.dump(state, f)
          os.replace(ckpt + ".tmp", ckpt)
      stop = []
      for sig in (signal.SIGTERM, signal.SIGINT):  # the notice: end after this epoch
          signal.signal(sig, lambda signum, frame: stop.append(signum))
      out = os.path.join(os.environ["TRAININGJOB_OUTPUT_DIR"], f"run-{a.epochs}-epochs.txt")
      progress = open(os.environ["TRAININGJOB_PROGRESS_FILE"], "a")
      for epoch in range(state["epoch"] + 1, a.epochs + 1):
          if stop:
              break
          time.sleep(a.seconds_per_epoch)
          state = {"epoch": epoch, "epochs": a.epochs}
          with open(out, "a") as f:
              f.write(f"epoch {epoch}\\n")
          save()
          print(f"Epoch {epoch}/{a.epochs} - loss: {1.0 / epoch:.4f}", flush=True)
          progress.write(json.dumps({"epoch": epoch, "epochs": a.epochs, "loss": 1.0 / epoch}) + "\\n")
          progress.flush()
      if stop:
          print(f"stopped after epoch {state['epoch']}; checkpoint saved", flush=True)
          sys.exit(143)
      print(f"done with {a.epochs} epochs", flush=True)
      """;

  @BeforeAll
  static void serve() throws Exception {
    demo = Demo.start(0, tmp.resolve("work"));
    kubectl = new Kubectl(demo.api().writeKubeconfig(tmp.resolve("kubeconfig")));
  }

  @AfterAll
  static void stop() {
    demo.api().client().resources(TrainingJob.class).inAnyNamespace().list().getItems()
        .forEach(j -> Screen.quit(JobRef.of(j).sessionName()));
    demo.close();
  }

  private static ConditionFactory await() {
    return org.awaitility.Awaitility.await().atMost(WAIT).pollInterval(Duration.ofMillis(300));
  }

  private static TrainingJob get(String name) {
    var r = kubectl.run("get", "trainingjob", name, "-o", "json");
    return r.code() == 0 ? Serialization.unmarshal(r.out(), TrainingJob.class) : null;
  }

  /** Ended, released, and running the spec of the given generation. */
  private static boolean finished(String name, long generation) {
    TrainingJob job = get(name);
    return job != null && job.getStatus() != null && job.getStatus().phase != null && job.getStatus().phase.isFinal()
        && Conditions.isTrue(job.getStatus(), ConditionType.RELEASED) && job.getStatus().run != null
        && job.getStatus().run.generation == generation;
  }

  private static boolean epochAtLeast(String name, int epoch) {
    TrainingJob job = get(name);
    return job != null && job.getStatus() != null && job.getStatus().phase == Phase.Running && job.getStatus().progress != null
        && job.getStatus().progress.epoch != null && job.getStatus().progress.epoch >= epoch;
  }

  private static void apply(String name, String args, String extra) throws Exception {
    Path file = tmp.resolve(name + ".yaml");
    Files.writeString(file, """
        apiVersion: trainingjob.dev/v1alpha1
        kind: TrainingJob
        metadata:
          name: %s
        spec:
          script:
            entrypoint: train.py
            args: %s
            inline:
              train.py: |
        %s
          output:
            paths: ["output"]
        %s""".formatted(name, args, SCRIPT.indent(8).stripTrailing(), extra));
    kubectl.ok("apply", "-f", file.toString());
  }

  private static long events(String name, String reason) throws InterruptedException {
    assertThat(demo.operator().awaitEventsWritten(Duration.ofSeconds(30))).as("the operator's Events written").isTrue();
    var list = Serialization.unmarshal(kubectl.ok("get", "events", "-o", "json"), EventList.class);
    return list.getItems().stream().filter(e -> name.equals(e.getInvolvedObject().getName()) && reason.equals(e.getReason())).count();
  }

  private static Path outputs(String name) {
    return demo.config().outputDir().resolve("default").resolve(name).resolve("output");
  }

  @Test
  void aSucceededJobReappliedWithFiveEpochsRunsAgainAndKeepsTheFirstRunsSummary() throws Exception {
    apply("again", "[\"--epochs\", \"3\"]", "");
    await().until(() -> finished("again", 1));
    assertThat(get("again").getStatus().phase).isEqualTo(Phase.Succeeded);

    apply("again", "[\"--epochs\", \"5\"]", "");
    await().until(() -> finished("again", 2));

    TrainingJob job = get("again");
    var s = job.getStatus();
    assertThat(s.phase).isEqualTo(Phase.Succeeded);
    assertThat(s.progress.totalEpochs).isEqualTo(5);
    assertThat(String.join("\n", s.logTail)).contains("Epoch 5/5").contains("done with 5 epochs");
    assertThat(s.runs).singleElement().satisfies(first -> {
      assertThat(first.generation).isEqualTo(1L);
      assertThat(first.phase).isEqualTo("Succeeded");
      assertThat(first.exitCode).isZero();
      assertThat(first.finishedAt).isNotNull();
      assertThat(first.outputUri).isEqualTo(outputs("again").getParent().toString());
    });
    assertThat(job.getMetadata().getGeneration()).as("two applies, and nothing the operator wrote").isEqualTo(2L);
    assertThat(job.getMetadata().getAnnotations()).doesNotContainKey("trainingjob.dev/rerun");
    String table = kubectl.ok("get", "trainingjobs", "again");
    assertThat(table).containsPattern("again\\s+Succeeded\\s+100%");
  }

  @Test
  void aRunningJobEditedMidRunStopsKeepsItsOutputsAndRestartsOnTheSameMachineWithItsPython() throws Exception {
    String venv = "  python:\n    bootstrap: venv\n";
    apply("edited", "[\"--epochs\", \"200\", \"--seconds-per-epoch\", \"0.5\"]", venv);
    await().until(() -> epochAtLeast("edited", 2));
    TrainingJob first = get("edited");
    var firstTimings = first.getStatus().timings;

    apply("edited", "[\"--epochs\", \"60\", \"--seconds-per-epoch\", \"0.1\"]", venv);
    await().until(() -> finished("edited", 2));

    TrainingJob job = get("edited");
    var s = job.getStatus();
    assertThat(s.phase).as(s.message).isEqualTo(Phase.Succeeded);
    assertThat(s.runs).singleElement().satisfies(r -> {
      assertThat(r.phase).isEqualTo("Stopped");
      assertThat(r.reason).isEqualTo("SpecChanged");
      assertThat(r.exitCode).as("the script got the notice").isEqualTo(143);
    });
    assertThat(outputs("edited").resolve("run-200-epochs.txt")).as("the stopped run's outputs were collected").isNotEmptyFile();
    assertThat(outputs("edited").resolve("run-60-epochs.txt")).content().contains("epoch 60");
    assertThat(events("edited", "Released")).as("one machine: released once, at the end").isEqualTo(1);
    assertThat(s.instance.id).isEqualTo(first.getStatus().instance.id);
    assertThat(Files.readAllLines(outputs("edited").resolve("run-60-epochs.txt")).get(0)).as("a new run finds the last run's "
        + "checkpoint on the machine, as it would in S3 on a new one (TRAININGJOB_RESUMED tells the script)").isNotEqualTo("epoch 1");
    // what reusing the machine saved: the first run made its venv, the second found it
    Duration firstStart = Duration.between(Instant.parse(firstTimings.sshReady), Instant.parse(firstTimings.bootstrapped));
    assertThat(s.timings.bootstrapped).as("the new run was seen running").isNotNull();
    Duration secondStart = Duration.between(Instant.parse(s.timings.attemptStarted), Instant.parse(s.timings.bootstrapped));
    System.out.printf("[measured] from the machine to a running script: first run (venv made) %d ms, next run on the same "
        + "machine (venv kept) %d ms%n", firstStart.toMillis(), secondStart.toMillis());
    assertThat(secondStart).as("no second bootstrap").isLessThan(firstStart);
  }

  @Test
  void suspendLeavesNoSessionAndResumeRunsToTheEndFromTheCheckpoint() throws Exception {
    apply("paused", "[\"--epochs\", \"30\", \"--seconds-per-epoch\", \"0.4\"]", "");
    await().until(() -> epochAtLeast("paused", 2));

    kubectl.ok("patch", "trainingjob", "paused", "--type=merge", "-p", "{\"spec\":{\"suspend\":true}}");
    await().until(() -> get("paused").getStatus().phase == Phase.Suspended);
    TrainingJob suspended = get("paused");
    assertThat(Screen.hasSession(JobRef.of(suspended).sessionName())).as("no screen session left").isFalse();
    assertThat(Conditions.isTrue(suspended.getStatus(), ConditionType.SUSPENDED)).isTrue();
    assertThat(kubectl.ok("get", "trainingjobs", "paused")).containsPattern("paused\\s+Suspended");

    kubectl.ok("patch", "trainingjob", "paused", "--type=merge", "-p", "{\"spec\":{\"suspend\":false}}");
    await().until(() -> finished("paused", 3));
    var s = get("paused").getStatus();
    assertThat(s.phase).isEqualTo(Phase.Succeeded);
    assertThat(s.attempts).extracting(a -> a.reason).containsExactly("Suspended", "Succeeded");
    assertThat(s.runs).as("suspend and resume are one run").isNull();
    // each epoch wrote its line once, across both attempts: the second began where the checkpoint left off
    String written = Files.readString(outputs("paused").resolve("run-30-epochs.txt"));
    for (int epoch = 1; epoch <= 30; epoch++) {
      String line = "epoch " + epoch;
      assertThat(written.lines().filter(line::equals).count()).as(line + " in\n" + written).isEqualTo(1);
    }
    assertThat(s.attempts.get(0).exitCode).as("the script got the notice").isEqualTo(143);
    assertThat(get("paused").getMetadata().getGeneration()).as("two patches, nothing the operator wrote").isEqualTo(3L);
  }

  @Test
  void rerunRunsAnUnchangedSpecAgain() throws Exception {
    apply("rerun", "[\"--epochs\", \"2\"]", "");
    await().until(() -> finished("rerun", 1));

    var rerun = Plugin.run(tmp.resolve("kubeconfig"), "rerun", "rerun");
    assertThat(rerun.code()).as(rerun.err()).isZero();
    await().until(() -> {
      TrainingJob job = get("rerun");
      return job.getStatus().runs != null && finished("rerun", 1);
    });
    TrainingJob job = get("rerun");
    assertThat(job.getStatus().run.number).isEqualTo(2);
    assertThat(job.getStatus().runs).extracting(r -> r.phase + ":" + r.reason).containsExactly("Succeeded:Succeeded");
    assertThat(job.getStatus().phase).isEqualTo(Phase.Succeeded);
    assertThat(job.getMetadata().getGeneration()).as("the spec did not change").isEqualTo(1L);
    assertThat(job.getMetadata().getFinalizers()).hasSize(1);
    assertThat(job.getMetadata().getAnnotations().keySet()).as("only what kubectl and the plugin set")
        .allMatch(k -> k.equals("trainingjob.dev/rerun") || k.startsWith("kubectl.kubernetes.io/"));
  }
}
