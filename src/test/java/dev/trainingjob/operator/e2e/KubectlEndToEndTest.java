package dev.trainingjob.operator.e2e;

import dev.trainingjob.operator.api.ConditionType;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.demo.Demo;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.status.Conditions;
import dev.trainingjob.operator.remote.JobRef;
import dev.trainingjob.operator.support.Kubectl;
import dev.trainingjob.operator.support.Screen;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole path as a user drives it: the real kubectl against `demo --serve`, jobs on the local provider. */
class KubectlEndToEndTest {
  private static final Duration WAIT = Duration.ofSeconds(120);
  @TempDir
  static Path tmp;
  private static Demo demo;
  private static Kubectl kubectl;

  @BeforeAll
  static void serve() throws Exception {
    demo = Demo.start(0, tmp.resolve("work"));
    // as `demo --serve` writes it: with the extension that names the local work root, which kubectl keeps and ignores
    kubectl = new Kubectl(demo.api().writeKubeconfig(tmp.resolve("kubeconfig"), demo.config().localWorkRoot()));
  }

  @AfterAll
  static void stop() {
    // a test that failed half-way may have left a script running: end every job's session
    demo.api().client().resources(TrainingJob.class).inAnyNamespace().list().getItems()
        .forEach(j -> Screen.quit(JobRef.of(j).sessionName()));
    demo.close();
  }

  /** Awaits that look every half second: each look is a kubectl process, which costs CPU the operator under test needs. */
  private static org.awaitility.core.ConditionFactory await() {
    return org.awaitility.Awaitility.await().pollInterval(Duration.ofMillis(500));
  }

  private static TrainingJob get(String name) {
    var r = kubectl.run("get", "trainingjob", name, "-o", "json");
    return r.code() == 0 ? Serialization.unmarshal(r.out(), TrainingJob.class) : null;
  }

  private static boolean finished(String name) {
    TrainingJob job = get(name);
    return job != null && job.getStatus() != null && job.getStatus().phase != null && job.getStatus().phase.isFinal()
        && Conditions.isTrue(job.getStatus(), ConditionType.RELEASED);
  }

  private static Path apply(String name, String yaml) throws Exception {
    Path file = tmp.resolve(name + ".yaml");
    Files.writeString(file, yaml);
    kubectl.ok("apply", "-f", file.toString());
    return file;
  }

  private static String job(String name, String script, String extraSpec) {
    return """
        apiVersion: trainingjob.dev/v1alpha1
        kind: TrainingJob
        metadata:
          name: %s
        spec:
          script:
            entrypoint: train.py
            inline:
              train.py: |
        %s
        %s""".formatted(name, script.indent(8).stripTrailing(), extraSpec);
  }

  private Path home(TrainingJob job) {
    return demo.config().localWorkRoot().resolve("homes").resolve("tj-" + job.getMetadata().getUid());
  }

  @Test
  void theExampleSucceedsWithFullProgressItsLastLineAndTheModelCollected() {
    kubectl.ok("apply", "-f", "deploy/examples/demo-job.yaml");

    await().atMost(WAIT).pollInterval(Duration.ofMillis(500)).until(() -> finished("demo"));

    TrainingJob job = get("demo");
    var s = job.getStatus();
    assertThat(s.phase).isEqualTo(Phase.Succeeded);
    assertThat(s.exitCode).isZero();
    assertThat(s.progress.percent).isEqualTo(100.0);
    assertThat(s.progress.epoch).isEqualTo(8.0);
    assertThat(s.progress.totalEpochs).isEqualTo(8);
    assertThat(s.progress.metrics).containsKeys("loss", "accuracy");
    assertThat(s.logTail.get(s.logTail.size() - 1)).startsWith("saved model to ").endsWith("/output/model.json");
    assertThat(s.attachCommand).contains("screen -r " + JobRef.of(job).sessionName());
    assertThat(demo.config().outputDir().resolve("default/demo/output/model.json")).isNotEmptyFile();
    String table = kubectl.ok("get", "trainingjobs");
    // the columns in the order of crds/ (PrinterColumns.ORDER); the operator's own machine costs nothing extra
    assertThat(table.lines().findFirst().orElseThrow()).containsPattern("NAME\\s+PHASE\\s+PROGRESS\\s+ETA\\s+TYPE\\s+COST\\s+AGE");
    assertThat(table).containsPattern("demo\\s+Succeeded\\s+100%\\s+local\\s+\\$0\\.00\\s+\\S+");
    assertThat(kubectl.ok("get", "tj", "demo", "-o", "wide")).containsPattern("AGE\\s+PROJECTED\\s+ADDRESS\\s+MESSAGE").contains("exited with code 0");
  }

  /**
   * The spot-resume example on the demo: interrupted on purpose with the plugin past epoch 3, it gets the notice, saves its
   * checkpoint, and resumes as attempt 2 from there: the epochs before the interruption are not trained again.
   */
  @Test
  void theSpotResumeExampleInterruptedWithThePluginResumesFromItsCheckpoint() throws Exception {
    kubectl.ok("apply", "-f", "deploy/examples/spot-resume.yaml");
    await().atMost(WAIT).pollInterval(Duration.ofMillis(200)).until(() -> {
      TrainingJob job = get("spot-resume");
      return job != null && job.getStatus() != null && job.getStatus().progress != null && job.getStatus().progress.epoch != null
          && job.getStatus().progress.epoch >= 3;
    });
    var interrupt = dev.trainingjob.operator.support.Plugin.run(tmp.resolve("kubeconfig"), "interrupt", "spot-resume");
    assertThat(interrupt.code()).as(interrupt.err()).isZero();
    assertThat(interrupt.out()).contains("resumes as attempt 2");

    await().atMost(WAIT).pollInterval(Duration.ofMillis(500)).until(() -> finished("spot-resume"));
    TrainingJob job = get("spot-resume");
    var s = job.getStatus();
    assertThat(s.phase).isEqualTo(Phase.Succeeded);
    assertThat(s.attempt).isEqualTo(2);
    assertThat(s.attempts).extracting(a -> a.reason).containsExactly("Interrupted", "Succeeded");
    // the log tail (20 lines) holds the whole of this short log, both attempts
    String log = String.join("\n", s.logTail);
    var resumed = java.util.regex.Pattern.compile("resumed from epoch (\\d+) \\(attempt 2\\)").matcher(log);
    assertThat(resumed.find()).as(log).isTrue();
    int from = Integer.parseInt(resumed.group(1));
    assertThat(from).isGreaterThanOrEqualTo(3);
    assertThat(log).contains("interrupted after epoch " + from + "; checkpoint saved");
    // epochs after the checkpoint run once, after the resume; none before it runs again
    for (int epoch = 1; epoch <= 10; epoch++) {
      String line = "Epoch " + epoch + "/";
      long times = log.lines().filter(l -> l.startsWith(line)).count();
      assertThat(times).as(line + " in\n" + log).isEqualTo(1);
    }
    assertThat(kubectl.ok("describe", "trainingjob", "spot-resume")).contains("Interrupted");
  }

  @Test
  void kubectlGetShowsLiveProgressAndCostWhileAJobTrains() throws Exception {
    apply("live", job("live", """
        import json, os, time
        for epoch in range(1, 41):
            time.sleep(0.3)
            with open(os.environ["TRAININGJOB_PROGRESS_FILE"], "a") as f:
                f.write(json.dumps({"epoch": epoch, "epochs": 40, "loss": 1.0 / epoch}) + "\\n")
        """, ""));
    // while it trains: a percentage below 100 that grows, and the cost so far
    List<Integer> seen = new java.util.ArrayList<>();
    await().atMost(WAIT).pollInterval(Duration.ofMillis(300)).until(() -> {
      var m = java.util.regex.Pattern.compile("live\\s+Running\\s+(\\d+)%\\s+(\\d+[smhd]\\S*)\\s+local\\s+\\$\\d+\\.\\d\\d").matcher(kubectl.ok("get", "trainingjobs"));
      if (m.find()) {
        int percent = Integer.parseInt(m.group(1));
        if (seen.isEmpty() || seen.get(seen.size() - 1) != percent) {
          seen.add(percent);
        }
      }
      return seen.size() >= 2;
    });
    assertThat(seen.get(1)).isGreaterThan(seen.get(0)).isLessThan(100);
    await().atMost(WAIT).until(() -> finished("live"));
  }

  /**
   * The cost-cap example, its machine at twenty cents a second and a cap of five dollars. The script gets the notice (SIGTERM),
   * the job ends BudgetExceeded within the cap plus one probe interval's worth, its model collected and the machine released.
   * (The example's own price, a dollar a second, leaves the script no time to run on a machine where preparing it takes
   * seconds: here it takes 3 to 6, which the cap then stops before the script starts.)
   */
  @Test
  void theCostCapExampleEndsBudgetExceededWithinTheCapAfterTheScriptGotTheNotice() throws Exception {
    String example = Files.readString(Path.of("deploy/examples/cost-cap.yaml"));
    assertThat(example).contains("hourlyPriceUSD: 3600").contains("maxCostUSD: 5");
    apply("cost-cap", example.replace("hourlyPriceUSD: 3600", "hourlyPriceUSD: 720"));

    await().atMost(WAIT).until(() -> finished("cost-cap"));

    var s = get("cost-cap").getStatus();
    assertThat(Conditions.find(s, ConditionType.FAILED).reason).isEqualTo("BudgetExceeded");
    assertThat(s.cost.priceSource).isEqualTo("spec");
    assertThat(s.cost.pricePerHourUSD).isEqualTo(720.0);
    double probeWorth = demo.config().probeInterval().toMillis() / 1000.0 * 0.2; // at twenty cents a second
    assertThat(s.cost.totalUSD).as("launched %s, timings %s, ending %s", s.instance.launchedAt,
        io.fabric8.kubernetes.client.utils.Serialization.asJson(s.timings), s.ending == null ? null : s.ending.at)
        .isPositive().isLessThanOrEqualTo(5 + probeWorth);
    assertThat(s.exitCode).as("the script was stopped by SIGTERM (its handler, or the signal itself)").isEqualTo(143);
    assertThat(s.message).contains("spec.limits.maxCostUSD ($5.00)");
    assertThat(demo.config().outputDir().resolve("default/cost-cap/output/model.txt")).as("saved on the notice").exists();
    assertThat(kubectl.ok("describe", "trainingjob", "cost-cap")).contains("BudgetExceeded");
  }

  /** A script that prints nothing new for spec.limits.stallSeconds is stopped as Stalled, what it wrote collected. */
  @Test
  void aStalledScriptIsStoppedWithItsOutputsCollected() throws Exception {
    apply("stalled", job("stalled", """
        import os, pathlib, time
        pathlib.Path(os.environ["TRAININGJOB_OUTPUT_DIR"], "model.txt").write_text("weights")
        print("loading the data set", flush=True)
        time.sleep(600)
        """, "  limits: {stallSeconds: 2}\n  output: {paths: [\"output/model.txt\"]}"));

    await().atMost(WAIT).until(() -> finished("stalled"));

    var s = get("stalled").getStatus();
    assertThat(Conditions.find(s, ConditionType.FAILED).reason).isEqualTo("Stalled");
    assertThat(s.message).contains("no progress record and no output line").contains("stallSeconds: 2");
    assertThat(demo.config().outputDir().resolve("default/stalled/output/model.txt")).hasContent("weights");
  }

  @Test
  void aScriptThatRaisesFailsWithTheExceptionInTheMessage() throws Exception {
    apply("raises", job("raises", "print('about to fail')\nraise RuntimeError('CUDA out of memory (pretend)')", ""));

    await().atMost(WAIT).until(() -> finished("raises"));

    var s = get("raises").getStatus();
    assertThat(s.phase).isEqualTo(Phase.Failed);
    assertThat(s.exitCode).isNotZero();
    assertThat(s.message).startsWith("GpuOutOfMemory: ").contains("RuntimeError: CUDA out of memory (pretend)");
    // the failure in words a person can act on, from the traceback a real python printed
    assertThat(s.failure.category).isEqualTo(dev.trainingjob.operator.api.FailureStatus.Category.GpuOutOfMemory);
    assertThat(s.failure.line).isEqualTo("RuntimeError: CUDA out of memory (pretend)");
    assertThat(s.failure.hint).contains("batch");
    assertThat(Conditions.find(s, ConditionType.FAILED).reason).isEqualTo("ScriptFailed");
    assertThat(demo.operator().awaitEventsWritten(WAIT)).as("the operator's Events written").isTrue();
    var events = Serialization.unmarshal(kubectl.ok("get", "events", "-o", "json"), io.fabric8.kubernetes.api.model.EventList.class);
    assertThat(events.getItems()).anyMatch(e -> "raises".equals(e.getInvolvedObject().getName()) && "ScriptFailed".equals(e.getReason())
        && "Warning".equals(e.getType()) && e.getMessage().startsWith("GpuOutOfMemory: ") && e.getMessage().contains("RuntimeError"));
  }

  @Test
  void aScriptPastMaxRuntimeSecondsIsStoppedOnItsMachine() throws Exception {
    apply("overtime", job("overtime", "import time\nprint('training', flush=True)\nwhile True: time.sleep(0.2)",
        "  limits: {maxRuntimeSeconds: 2}"));
    await().atMost(WAIT).until(() -> get("overtime") != null && get("overtime").getStatus() != null
        && get("overtime").getStatus().phase == Phase.Running);
    String session = JobRef.of(get("overtime")).sessionName();

    await().atMost(WAIT).until(() -> finished("overtime"));
    var s = get("overtime").getStatus();
    assertThat(s.phase).isEqualTo(Phase.Failed);
    assertThat(Conditions.find(s, ConditionType.FAILED).reason).isEqualTo("MaxRuntimeExceeded");
    assertThat(Screen.hasSession(session)).isFalse();
    assertThat(kubectl.ok("describe", "trainingjob", "overtime")).contains("MaxRuntimeExceeded");
  }

  /**
   * kubectl get -w prints the job's row each time it changes, as a Table row (the embedded API streams kubectl's watch);
   * describe lists the Events the operator recorded for the job (the API filters Events by describe's field selector).
   */
  @Test
  void getWatchPrintsThePhaseChangesAndDescribeListsTheJobsEvents() throws Exception {
    java.util.function.Predicate<dev.trainingjob.operator.embedded.EmbeddedKubernetes.Request> kubectlWatch =
        r -> r.path().contains("watch=true") && r.userAgent() != null && r.userAgent().startsWith("kubectl/");
    int watchesBefore = demo.api().requests(kubectlWatch).size();
    try (var watch = kubectl.start(tmp.resolve("get-watch.out"), "get", "trainingjobs", "--watch")) {
      // the watch reaches the API before the job exists: every phase the job goes through is a change it must print
      await().atMost(WAIT).until(() -> demo.api().requests(kubectlWatch).size() > watchesBefore);
      apply("watched", job("watched", "import time\nfor e in range(3):\n    print(f'Epoch {e + 1}/3', flush=True)\n    time.sleep(0.3)", ""));

      // a row in a phase before the end (which ones the status shows depends on how fast the job goes), then the last
      String before = java.util.Arrays.stream(Phase.values()).filter(p -> !p.isFinal()).map(Phase::name)
          .collect(java.util.stream.Collectors.joining("|"));
      await().atMost(WAIT).untilAsserted(() -> assertThat(watch.printed())
          .containsPattern("(?ms)^watched\\s+(" + before + ")\\s.*^watched\\s+Succeeded\\s+100%\\s+local\\s"));
      assertThat(watch.printed()).doesNotContain("Failed to watch").doesNotContain("error");
    }
    await().atMost(WAIT).until(() -> finished("watched"));

    // the Released event is recorded with the status that says so; a look or two may come between them
    var released = java.util.regex.Pattern.compile("Normal\\s+" + Reason.Released + "\\s+\\S+\\s+trainingjob-operator\\s+Released the machine");
    await().atMost(WAIT).until(() -> released.matcher(events(kubectl.ok("describe", "trainingjob", "watched"))).find());
    String events = events(kubectl.ok("describe", "trainingjob", "watched"));
    String session = JobRef.of(get("watched")).sessionName();
    assertThat(events).containsPattern("Type\\s+Reason\\s+Age\\s+From\\s+Message")
        .containsPattern("Normal\\s+" + Reason.Started + "\\s+\\S+\\s+trainingjob-operator\\s+Driver started in screen session " + session)
        .containsPattern("Normal\\s+" + Reason.Succeeded + "\\s+\\S+\\s+trainingjob-operator\\s+The script exited with code 0");
  }

  /** The Events section of kubectl describe's output. */
  private static String events(String described) {
    return described.substring(described.lastIndexOf("Events:"));
  }

  /**
   * kubectl apply validates against the embedded API as against a cluster (no --validate=false): a misspelt field is
   * refused, named, and nothing is created; kubectl explain reads the CRD's documentation from the same OpenAPI.
   */
  @Test
  void applyRefusesAMisspeltFieldAndExplainDescribesTheSpec() throws Exception {
    Path file = tmp.resolve("misspelt.yaml");
    Files.writeString(file, job("misspelt", "print('never runs')", "  limits: {maxRuntimeSecnds: 60}"));

    var refused = kubectl.run("apply", "-f", file.toString());

    assertThat(refused.code()).isNotZero();
    assertThat(refused.err()).contains("BadRequest").contains("unknown field \"spec.limits.maxRuntimeSecnds\"");
    assertThat(kubectl.run("get", "trainingjob", "misspelt").err()).contains("NotFound");
    assertThat(kubectl.ok("explain", "trainingjob.spec.limits")).contains("KIND:       TrainingJob").contains("maxRuntimeSeconds\t<integer>");
  }

  @Test
  void deletingARunningJobEndsItsSessionCleansItsDirectoryAndRemovesIt() throws Exception {
    apply("forever", job("forever", "import time\nprint('training forever', flush=True)\nwhile True: time.sleep(0.2)", ""));
    await().atMost(WAIT).until(() -> get("forever") != null && get("forever").getStatus() != null
        && get("forever").getStatus().phase == Phase.Running);
    TrainingJob job = get("forever");
    String session = JobRef.of(job).sessionName();
    Path home = home(job);
    assertThat(Screen.hasSession(session)).isTrue();
    assertThat(home.resolve(JobRef.of(job).directory())).isDirectory();

    // kubectl waits for the deletion with a watch, and returns once the job is gone (its finalizer released the machine)
    var deleted = kubectl.run("delete", "trainingjob", "forever");

    assertThat(deleted.code()).as(deleted.err()).isZero();
    assertThat(deleted.err()).doesNotContain("Failed to watch");
    assertThat(kubectl.run("get", "trainingjob", "forever").err()).contains("NotFound");
    assertThat(Screen.hasSession(session)).isFalse();
    assertThat(home.resolve(JobRef.of(job).directory())).doesNotExist();
  }

  @Test
  void anInvalidSpecFailsAsInvalidSpecAndNothingStartsOnTheHost() throws Exception {
    apply("invalid", """
        apiVersion: trainingjob.dev/v1alpha1
        kind: TrainingJob
        metadata:
          name: invalid
        spec:
          script:
            entrypoint: ../../etc/passwd
            inline:
              train.py: print('x')
          env:
          - name: "not valid"
            value: x
        """);

    await().atMost(WAIT).until(() -> finished("invalid"));

    TrainingJob job = get("invalid");
    assertThat(job.getStatus().phase).isEqualTo(Phase.Failed);
    var failed = Conditions.find(job.getStatus(), ConditionType.FAILED);
    assertThat(failed.reason).isEqualTo("InvalidSpec");
    assertThat(failed.message).contains("spec.script.entrypoint").contains("spec.env[0].name");
    assertThat(home(job)).doesNotExist();
    assertThat(kubectl.ok("describe", "trainingjob", "invalid")).contains("InvalidSpec");
  }

  @Test
  void tenJobsAppliedAtOnceAllSucceed() throws Exception {
    StringBuilder yaml = new StringBuilder();
    for (int i = 0; i < 10; i++) {
      yaml.append("---\n").append(job("many-" + i,
          "import json, os\nfor e in range(1, 4):\n    print(f'Epoch {e}/3 - loss: {1/e:.4f}')\n"
              + "    open(os.environ['TRAININGJOB_PROGRESS_FILE'], 'a').write(json.dumps({'epoch': e, 'epochs': 3}) + '\\n')",
          "")).append('\n');
    }
    apply("many", yaml.toString());

    List<String> names = java.util.stream.IntStream.range(0, 10).mapToObj(i -> "many-" + i).toList();
    await().atMost(WAIT).pollInterval(Duration.ofSeconds(1)).until(() -> names.stream().allMatch(KubectlEndToEndTest::finished));

    for (String name : names) {
      var s = get(name).getStatus();
      assertThat(s.phase).as(name).isEqualTo(Phase.Succeeded);
      assertThat(s.progress.summary).as(name).isEqualTo("100%");
    }
  }
}
