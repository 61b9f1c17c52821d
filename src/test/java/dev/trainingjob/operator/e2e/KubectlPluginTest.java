package dev.trainingjob.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.trainingjob.operator.Assembly;
import dev.trainingjob.operator.OperatorRuntime;
import dev.trainingjob.operator.api.Annotations;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.RunStatus;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.api.TrainingJobStatus;
import dev.trainingjob.operator.cli.plugin.JobAccess;
import dev.trainingjob.operator.cli.plugin.LogsCommand;
import dev.trainingjob.operator.cli.plugin.PluginException;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.embedded.EmbeddedKubernetes;
import dev.trainingjob.operator.support.Jobs;
import dev.trainingjob.operator.support.Plugin;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The kubectl plugin's verbs against jobs on the local provider. */
class KubectlPluginTest {
  static final String TICKER = """
      import time
      for i in range(1, 400):
          print(f"tick {i}", flush=True)
          time.sleep(0.2)
      """;

  @TempDir
  Path tmp;
  EmbeddedKubernetes api;
  OperatorRuntime operator;
  Path kubeconfig;
  boolean operatorRunning = true;

  @BeforeEach
  void start() throws Exception {
    api = new EmbeddedKubernetes().start(0);
    kubeconfig = api.writeKubeconfig(tmp.resolve("kubeconfig"));
    operator = Assembly.start(api.client(), OperatorConfig.defaults().with(c -> {
      c.defaultProvider = "local";
      c.localProvider = true;
      c.pollInterval = c.probeInterval = Duration.ofMillis(200);
      c.metricsPort = -1;
      c.outputDir = tmp.resolve("outputs");
      c.localWorkRoot = tmp.resolve("local");
    }));
  }

  @AfterEach
  void stop() {
    if (operatorRunning) {
      // release every job, so no screen session outlives the test (or writes into its directory while it is deleted)
      api.client().resources(TrainingJob.class).inNamespace("default").delete();
      await().atMost(Duration.ofSeconds(60)).until(() -> api.client().resources(TrainingJob.class).inNamespace("default").list()
          .getItems().isEmpty());
    }
    operator.close();
    api.close();
  }

  private void stopOperator() {
    operatorRunning = false;
    operator.close();
  }

  private TrainingJob running(String name, String script) {
    api.client().resource(Jobs.inline(name, "train.py", Map.of("train.py", script))).inNamespace("default").create();
    await().atMost(Duration.ofSeconds(60)).until(() -> phase(name) == Phase.Running);
    return api.client().resources(TrainingJob.class).inNamespace("default").withName(name).get();
  }

  private Phase phase(String name) {
    TrainingJob job = api.client().resources(TrainingJob.class).inNamespace("default").withName(name).get();
    return job == null || job.getStatus() == null ? null : job.getStatus().phase;
  }

  /** A verb as `kubectl trainingjob ...` runs it, against the embedded API. */
  private Plugin.Result cli(String... args) {
    List<String> all = new java.util.ArrayList<>(List.of(args));
    all.addAll(List.of("--local-work-root", tmp.resolve("local").toString()));
    return Plugin.run(kubeconfig, all.toArray(String[]::new));
  }

  private static String text(ByteArrayOutputStream out) {
    return out.toString(StandardCharsets.UTF_8).replace("\r", "");
  }

  @Test
  void logsFollowShowsTheOutputAsTheScriptWritesIt() throws Exception {
    running("ticker", TICKER);
    var machine = JobAccess.machine(api.client(), "default", "ticker", tmp.resolve("local"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    AtomicBoolean keepGoing = new AtomicBoolean(true);
    Thread follower = new Thread(() -> {
      try {
        LogsCommand.stream(machine, java.util.Set.of(), true, out, keepGoing::get);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    follower.start();
    // screen's log holds what the terminal showed: lines end in \r\n
    await().atMost(Duration.ofSeconds(30)).until(() -> text(out).contains("tick 3\n"));
    String seen = text(out);
    // lines written after the first read arrive on the same stream
    int last = Integer.parseInt(seen.strip().lines().reduce((a, b) -> b).orElseThrow().replace("tick ", ""));
    await().atMost(Duration.ofSeconds(30)).until(() -> text(out).contains("tick " + (last + 5) + "\n"));
    keepGoing.set(false);
    follower.join(10_000);
    assertThat(follower.isAlive()).isFalse();

    // without -f: what is there now, then the command ends
    Plugin.Result once = cli("logs", "ticker", "-n", "default");
    assertThat(once.code()).isZero();
    assertThat(once.err()).isEmpty();

    // with a demo's kubeconfig, no flag: it names the local work root (a cluster extension), and the plugin finds it there
    Path demoConfig = api.writeKubeconfig(tmp.resolve("demo-kubeconfig"), tmp.resolve("local"));
    Plugin.Result found = Plugin.run(demoConfig, "logs", "ticker", "-n", "default");
    assertThat(found.code()).as("the key was found where the kubeconfig says: " + found.err()).isZero();
    assertThat(found.err()).isEmpty();
  }

  @Test
  void logsFollowEndsWhenTheJobEndsWithItsLastLine() throws Exception {
    running("short", """
        import time
        for i in range(1, 13):
            print(f"tick {i}", flush=True)
            time.sleep(0.5)
        print("the last line", flush=True)
        """);
    var machine = JobAccess.machine(api.client(), "default", "short", tmp.resolve("local"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    var going = LogsCommand.whileRunning(api.client(), "default", "short");
    var follow = java.util.concurrent.CompletableFuture.runAsync(() -> {
      try {
        LogsCommand.stream(machine, java.util.Set.of(), true, out, going);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    // the command itself, as kubectl runs it, started while the job runs: it returns once the job has ended
    var command = java.util.concurrent.CompletableFuture.supplyAsync(() -> cli("logs", "short", "-f", "-n", "default"));
    await().atMost(Duration.ofSeconds(60)).until(() -> follow.isDone() && command.isDone());
    follow.join(); // no error
    assertThat(command.join().code()).as(command.join().err()).isZero();
    assertThat(phase("short").isFinal()).isTrue();
    assertThat(text(out)).contains("tick 12\n").contains("the last line\n");
  }

  static final String DEPLOY_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\n"
      + "uJAOi+wDxU+GnGQCmziWAO21zmd0IzhSA+rwmq0fjj0Uedm6ROtmsFmzhHI8ZR7b\n"
      + "jUl3mn8yIGSfRWFTLc7rdJ844AKlAAUxP0czy+2I1Qiu/20HuX969Kc6JZ6jmtJY\n"
      + "dwyj7B4W7RK/Wd9UpdN/Soo+YuNf5SXOWFEk3SfrMPovnPwknqlby5FGFqJ6ZlAr\n"
      + "-----END OPENSSH PRIVATE KEY-----\n";
  static final String HF_TOKEN = "hf_Q7mN2pX9rT4vW8yZ1bC5dF3gH6jK0lA";
  static final String LEAKY = """
      import os, time
      key = os.environ["DEPLOY_KEY"]
      print("a line of it alone:", key.splitlines()[2], flush=True)
      print(key, flush=True)
      print("-----BEGIN RSA PRIVATE KEY-----\\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun", flush=True)
      print("-----END RSA PRIVATE KEY-----", flush=True)
      print("python train.py --hf-token %s --epochs 3" % "HF_TOKEN_VALUE", flush=True)
      print("step 10/10 done", flush=True)
      time.sleep(600)
      """.replace("HF_TOKEN_VALUE", HF_TOKEN);

  @Test
  void logsAndStatusMaskKeyBlocksMultiLineSecretsAndCredentialFlags() throws Exception {
    api.client().resource(new SecretBuilder().withNewMetadata().withName("deploy").endMetadata()
        .addToStringData("ssh-privatekey", DEPLOY_KEY).build()).inNamespace("default").create();
    TrainingJob job = Jobs.inline("leaky", "train.py", Map.of("train.py", LEAKY));
    job.getSpec().env = List.of(Jobs.envFromSecret("DEPLOY_KEY", "deploy", "ssh-privatekey"));
    api.client().resource(job).inNamespace("default").create();
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      TrainingJob j = api.client().resources(TrainingJob.class).inNamespace("default").withName("leaky").get();
      return j.getStatus() != null && j.getStatus().logTail != null && j.getStatus().logTail.contains("step 10/10 done");
    });
    List<String> secrets = new java.util.ArrayList<>(List.of(HF_TOKEN, "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun"));
    DEPLOY_KEY.lines().filter(l -> !l.startsWith("-----")).forEach(secrets::add);

    List<String> tail = api.client().resources(TrainingJob.class).inNamespace("default").withName("leaky").get().getStatus().logTail;
    assertThat(String.join("\n", tail)).doesNotContain(secrets);
    assertThat(tail).contains("a line of it alone: ******", "python train.py --hf-token ****** --epochs 3");

    // the plugin's logs, as `kubectl trainingjob logs leaky` prints them
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    java.io.PrintStream stdout = System.out;
    System.setOut(new java.io.PrintStream(printed, true, StandardCharsets.UTF_8));
    Plugin.Result logs;
    try {
      logs = cli("logs", "leaky", "-n", "default");
    } finally {
      System.setOut(stdout);
    }
    assertThat(logs.code()).as(logs.err()).isZero();
    String shown = text(printed);
    assertThat(shown).contains("a line of it alone: ******\n", "python train.py --hf-token ****** --epochs 3\n", "step 10/10 done\n")
        .doesNotContain(secrets);
    // every line of both blocks is there, masked: BEGIN, body and END
    assertThat(shown.lines().filter(l -> l.equals(dev.trainingjob.operator.redact.LogRedactor.MASK))).hasSize(5 + 3);
  }

  @Test
  void tunnelReachesAServerOnTheMachinesLoopback() throws Exception {
    running("board", TICKER);
    // a TensorBoard stand-in on the machine (the local provider's machine is this one)
    HttpServer board = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    board.createContext("/", ex -> {
      byte[] body = "scalars: loss".getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(200, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    board.start();
    try (var ssh = JobAccess.ssh()) {
      var machine = JobAccess.machine(api.client(), "default", "board", tmp.resolve("local"));
      try (var forward = ssh.connect(machine.target()).forward(0, board.getAddress().getPort())) {
        assertThat(forward.localPort()).isNotEqualTo(board.getAddress().getPort());
        var response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + forward.localPort() + "/")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.body()).isEqualTo("scalars: loss");
      }
    } finally {
      board.stop(0);
    }
  }

  @Test
  void getShowsAProgressBarAndAttachUsesKeysOpenSshAccepts() throws Exception {
    running("bar", TICKER);
    Plugin.Result get = cli("get", "-n", "default");
    assertThat(get.code()).isZero();
    assertThat(get.out()).containsPattern("NAME\\s+PHASE\\s+PROGRESS\\s+ETA\\s+TYPE\\s+COST\\s+AGE").containsPattern("bar\\s+Running");

    // attach runs OpenSSH with the job's key and the machine's host key pinned; here it runs a command instead of screen
    var machine = JobAccess.machine(api.client(), "default", "bar", tmp.resolve("local"));
    Path dir = Files.createDirectories(tmp.resolve("attach"));
    List<String> argv = new java.util.ArrayList<>(dev.trainingjob.operator.cli.plugin.AttachCommand.sshCommand(machine, dir));
    assertThat(argv).endsWith("screen", "-r", machine.ref().sessionName()).contains("StrictHostKeyChecking=yes");
    assertThat(Files.getPosixFilePermissions(dir.resolve("key"))).extracting(Object::toString).containsOnly("OWNER_READ", "OWNER_WRITE");
    argv.removeAll(List.of("-t", "screen", "-r", machine.ref().sessionName()));
    argv.addAll(List.of("-o", "BatchMode=yes", "screen", "-ls"));
    Process ssh = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String text = new String(ssh.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(ssh.waitFor()).as(text).isIn(0, 1); // screen -ls exits 1 when it lists sessions on some versions
    assertThat(text).contains(machine.ref().sessionName());
  }

  @Test
  void clearErrorsForMissingUnstartedAndFinishedJobs() throws Exception {
    assertThat(cli("logs", "nope", "-n", "default")).satisfies(r -> {
      assertThat(r.code()).isEqualTo(1);
      assertThat(r.err()).contains("trainingjob default/nope not found");
    });

    api.client().resource(Jobs.inline("done", "train.py", Map.of("train.py", "print('bye')\n"))).inNamespace("default").create();
    await().atMost(Duration.ofSeconds(60)).until(() -> phase("done") == Phase.Succeeded);
    assertThat(cli("attach", "done", "-n", "default")).satisfies(r -> {
      assertThat(r.code()).isEqualTo(1);
      assertThat(r.err()).contains("has finished (Succeeded)");
    });

    stopOperator(); // nobody reconciles what comes next
    api.client().resource(Jobs.simple("waiting")).inNamespace("default").create();
    assertThatThrownBy(() -> JobAccess.machine(api.client(), "default", "waiting", tmp.resolve("local")))
        .isInstanceOf(PluginException.class).hasMessageContaining("has no machine yet");
    assertThat(cli("tunnel", "waiting", "6006", "-n", "default")).satisfies(r -> {
      assertThat(r.code()).isEqualTo(1);
      assertThat(r.err()).contains("has no machine yet");
    });
  }

  @Test
  void interruptAndReleaseAreRefusedForAJobTheyCannotMeanAnythingTo() throws Exception {
    stopOperator(); // nobody reconciles: the job stays without a status
    api.client().resource(Jobs.simple("not-yet")).inNamespace("default").create();
    assertThat(cli("interrupt", "not-yet")).satisfies(r -> {
      assertThat(r.code()).isEqualTo(1);
      assertThat(r.err()).contains("default/not-yet is not running (phase none); only a running script can be interrupted");
    });
    assertThat(cli("release", "not-yet")).satisfies(r -> {
      assertThat(r.code()).isEqualTo(1);
      assertThat(r.err()).contains("default/not-yet is not in a debug hold");
    });
    var annotations = api.client().resources(TrainingJob.class).inNamespace("default").withName("not-yet").get()
        .getMetadata().getAnnotations();
    assertThat(annotations == null ? Map.of() : annotations).as("nothing was asked of the operator").isEmpty();
  }

  private TrainingJob job(String name) {
    return api.client().resources(TrainingJob.class).inNamespace("default").withName(name).get();
  }

  private String rerunAnnotation(String name) {
    var annotations = job(name).getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(Annotations.RERUN);
  }

  /** The status the operator would write: the phase, and run {@code number} answering the rerun {@code answered}. */
  private void status(String name, Phase phase, int number, String answered) {
    TrainingJob job = job(name);
    job.setStatus(new TrainingJobStatus());
    job.getStatus().phase = phase;
    job.getStatus().observedGeneration = job.getMetadata().getGeneration();
    job.getStatus().run = new RunStatus();
    job.getStatus().run.number = number;
    job.getStatus().run.generation = job.getMetadata().getGeneration();
    job.getStatus().run.rerun = answered;
    api.client().resource(job).updateStatus();
  }

  @Test
  void rerunSetsANewValueEachTimeAndRefusesWhileTheLastIsNotActedOn() throws Exception {
    stopOperator(); // the test writes what the operator would
    api.client().resource(Jobs.simple("again")).inNamespace("default").create();
    assertThat(cli("rerun", "again")).satisfies(r -> {
      assertThat(r.code()).isEqualTo(1);
      assertThat(r.err()).contains("default/again has no status yet");
    });
    assertThat(rerunAnnotation("again")).as("nothing was asked of the operator").isNull();

    status("again", Phase.Succeeded, 1, null);
    Plugin.Result first = cli("rerun", "again");
    assertThat(first.code()).as(first.err()).isZero();
    assertThat(first.out()).contains("default/again: rerun requested; run 1 Succeeded; run 2 of the unchanged spec starts");
    String v1 = rerunAnnotation("again");
    assertThat(v1).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");

    // asked again before the operator acted on the first: refused, the first value stays
    assertThat(cli("rerun", "again")).satisfies(r -> {
      assertThat(r.code()).isEqualTo(1);
      assertThat(r.err()).contains("default/again already has a rerun the operator has not acted on yet "
          + "(trainingjob.dev/rerun: " + v1 + "; status.run.rerun: none)", "ask again once run 2 has started");
    });
    assertThat(rerunAnnotation("again")).isEqualTo(v1);

    // the operator started run 2 for it, which now runs: the next rerun stops it first, with a new value
    status("again", Phase.Running, 2, v1);
    Plugin.Result second = cli("rerun", "again");
    assertThat(second.code()).as(second.err()).isZero();
    assertThat(second.out()).contains("default/again: rerun requested; run 2 gets the stop notice first",
        "then run 3 of the unchanged spec starts");
    String v2 = rerunAnnotation("again");
    assertThat(v2).isNotEqualTo(v1);
    assertThat(java.time.Instant.parse(v2)).isAfter(java.time.Instant.parse(v1));

    // a value from a clock ahead of this one: the new value is still later, so never the same
    var ahead = job("again");
    ahead.getMetadata().getAnnotations().put(Annotations.RERUN, "2999-01-01T00:00:00.000Z");
    api.client().resource(ahead).update();
    status("again", Phase.Suspended, 3, "2999-01-01T00:00:00.000Z");
    Plugin.Result third = cli("rerun", "again");
    assertThat(third.code()).as(third.err()).isZero();
    assertThat(third.out()).contains("default/again: rerun requested; run 4 of the unchanged spec starts");
    assertThat(rerunAnnotation("again")).isEqualTo("2999-01-01T00:00:00.001Z");
  }

  @Test
  void aRerunOfASucceededJobRunsItAgain() throws Exception {
    api.client().resource(Jobs.inline("twice", "train.py", Map.of("train.py", "print('bye')\n"))).inNamespace("default").create();
    await().atMost(Duration.ofSeconds(60)).until(() -> phase("twice") == Phase.Succeeded);
    Plugin.Result r = cli("rerun", "twice");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("run 2 of the unchanged spec starts");
    String asked = rerunAnnotation("twice");
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      var status = job("twice").getStatus();
      return status.phase == Phase.Succeeded && status.run.number == 2;
    });
    var status = job("twice").getStatus();
    assertThat(status.run.rerun).isEqualTo(asked);
    assertThat(status.runs).singleElement().satisfies(run -> {
      assertThat(run.number).isEqualTo(1);
      assertThat(run.phase).isEqualTo("Succeeded");
    });
  }

  /** As the jar runs for kubectl: its answer on stdout, nothing on stderr (no library warning, no INFO line). */
  @Test
  void aVerbRunAsTheJarIsQuiet() throws Exception {
    running("quiet", TICKER);
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), dev.trainingjob.operator.cli.Main.class.getName(), "get",
        "-n", "default");
    pb.environment().put("KUBECONFIG", kubeconfig.toString());
    Process p = pb.start();
    var err = new ByteArrayOutputStream();
    Thread errors = new Thread(() -> {
      try {
        p.getErrorStream().transferTo(err);
      } catch (java.io.IOException e) {
        // the process ended
      }
    });
    errors.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out + text(err)).isZero();
    errors.join(10_000);
    assertThat(out).contains("quiet").contains("Running");
    assertThat(text(err)).as("stderr").isEmpty();
  }

  @Test
  void kubectlFindsThePluginAndPassesItsArgumentsThrough() throws Exception {
    Path bin = Files.createDirectories(tmp.resolve("bin"));
    Files.copy(Path.of("operator/kubectl-trainingjob"), bin.resolve("kubectl-trainingjob"));
    bin.resolve("kubectl-trainingjob").toFile().setExecutable(true);
    Path fakeJava = bin.resolve("fake-java");
    Files.writeString(fakeJava, "#!/bin/sh\necho \"java $*\"\n");
    fakeJava.toFile().setExecutable(true);
    Path jar = Files.writeString(tmp.resolve("trainingjob-operator.jar"), "");
    ProcessBuilder pb = new ProcessBuilder("kubectl", "trainingjob", "logs", "my-job", "-f", "-n", "ml").redirectErrorStream(true);
    pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
    pb.environment().put("TRAININGJOB_JAR", jar.toString());
    pb.environment().put("TRAININGJOB_JAVA", fakeJava.toString());
    pb.environment().put("XDG_CACHE_HOME", tmp.resolve("cache").toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(p.waitFor()).as(out).isZero();
    // the JVM's flags for a short command (PluginLauncherTest runs them), then the jar and the arguments as given
    assertThat(out).startsWith("java -XX:").endsWith(" -jar " + jar.toRealPath() + " logs my-job -f -n ml");
  }
}
