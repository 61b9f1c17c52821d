package dev.trainingjob.operator.e2e;

import dev.trainingjob.operator.api.ConditionType;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.embedded.EmbeddedKubernetes;
import dev.trainingjob.operator.status.Conditions;
import dev.trainingjob.operator.remote.JobRef;
import dev.trainingjob.operator.support.Jobs;
import dev.trainingjob.operator.support.Screen;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator process is killed (SIGKILL) while a job runs; a new operator process against the
 * same API and the same machine finishes the job, and the script ran exactly once.
 */
class OperatorRestartTest {
  @TempDir
  Path tmp;

  private Process operator(Path kubeconfig, String name) throws Exception {
    List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "dev.trainingjob.operator.cli.Main", "run",
        "--enable-local-provider", "--default-provider", "local", "--poll-interval", "1s", "--probe-interval", "1s",
        "--local-work-root", tmp.resolve("local").toString(), "--output-dir", tmp.resolve("outputs").toString());
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(tmp.resolve(name + ".log").toFile());
    pb.environment().put("KUBECONFIG", kubeconfig.toString());
    return pb.start();
  }

  /**
   * A stopped operator (SIGTERM, as Kubernetes stops a pod) closes before its process ends: its reconciles end, the Events
   * it recorded are written and its connections close. The JVM halts as soon as its shutdown hooks return, so the hook
   * waits for the close; before, the process could end in the middle of it.
   */
  @Test
  void aStoppedOperatorClosesBeforeItsProcessEnds() throws Exception {
    try (EmbeddedKubernetes api = new EmbeddedKubernetes().start(0)) {
      Path kubeconfig = api.writeKubeconfig(tmp.resolve("kubeconfig"));
      Process operator = operator(kubeconfig, "stopped");
      try {
        Path log = tmp.resolve("stopped.log");
        await().atMost(Duration.ofSeconds(90)).until(() -> Files.exists(log) && Files.readString(log).contains("started: shard"));
        operator.destroy(); // SIGTERM
        assertThat(operator.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).as("the operator stopped").isTrue();
        assertThat(Files.readString(log)).as(Files.readString(log)).contains("operator stopped");
      } finally {
        operator.destroyForcibly().waitFor();
      }
    }
  }

  @Test
  void aNewOperatorFinishesTheJobOfAKilledOneAndTheScriptRunsOnce() throws Exception {
    try (EmbeddedKubernetes api = new EmbeddedKubernetes().start(0)) {
      Path kubeconfig = api.writeKubeconfig(tmp.resolve("kubeconfig"));
      Process first = operator(kubeconfig, "first");
      String session = null;
      try {
        TrainingJob job = Jobs.inline("survivor", "train.py", Map.of("train.py", """
            import os, time
            open(os.path.join(os.environ["TRAININGJOB_OUTPUT_DIR"], "runs.txt"), "a").write("ran\\n")
            print("started; waiting for the go file", flush=True)
            while not os.path.exists("go"):
                time.sleep(0.1)
            print("finished")
            """));
        job.getSpec().output = new dev.trainingjob.operator.api.OutputSpec();
        job.getSpec().output.paths = List.of("output/runs.txt");
        var jobs = api.client().resources(TrainingJob.class).inNamespace("default");
        jobs.resource(job).create();
        await().atMost(Duration.ofSeconds(90)).until(() -> phase(jobs.withName("survivor").get()) == Phase.Running);
        TrainingJob running = jobs.withName("survivor").get();
        JobRef ref = JobRef.of(running);
        session = ref.sessionName();

        first.destroyForcibly().waitFor();
        assertThat(Screen.hasSession(ref.sessionName())).as("the script outlives the operator").isTrue();

        Process second = operator(kubeconfig, "second");
        try {
          Path jobDir = tmp.resolve("local/homes/tj-" + ref.uid()).resolve(ref.directory());
          Files.writeString(jobDir.resolve("job/go"), "");
          await().atMost(Duration.ofSeconds(90)).until(() -> {
            TrainingJob j = jobs.withName("survivor").get();
            return phase(j) == Phase.Succeeded && Conditions.isTrue(j.getStatus(), ConditionType.RELEASED);
          });
          assertThat(Files.readAllLines(tmp.resolve("outputs/default/survivor/output/runs.txt"))).containsExactly("ran");
          assertThat(jobs.withName("survivor").get().getStatus().logTail).contains("finished");
        } finally {
          second.destroyForcibly().waitFor();
        }
      } finally {
        first.destroyForcibly().waitFor();
        if (session != null) {
          Screen.quit(session); // when the test failed half-way, the script must not run on
        }
      }
    }
  }

  /**
   * The restarted operator's SSH server listens on a new port: the attach command in status names
   * that port, as status.instance.sshPort does, and the plugin reaches the machine there too.
   */
  @Test
  void afterARestartTheAttachCommandNamesThePortTheMachineAnswersOn() throws Exception {
    try (EmbeddedKubernetes api = new EmbeddedKubernetes().start(0)) {
      Path kubeconfig = api.writeKubeconfig(tmp.resolve("kubeconfig"));
      Path knownHosts = tmp.resolve("local/known_hosts");
      Process first = operator(kubeconfig, "first");
      String session = null;
      try {
        TrainingJob job = Jobs.inline("moved", "train.py", Map.of("train.py", """
            import os, time
            while not os.path.exists("go"):
                time.sleep(0.1)
            """));
        var jobs = api.client().resources(TrainingJob.class).inNamespace("default");
        jobs.resource(job).create();
        await().atMost(Duration.ofSeconds(90)).until(() -> phase(jobs.withName("moved").get()) == Phase.Running
            && jobs.withName("moved").get().getStatus().attachCommand != null);
        TrainingJob running = jobs.withName("moved").get();
        JobRef ref = JobRef.of(running);
        session = ref.sessionName();
        String firstServer = Files.readString(knownHosts);

        first.destroyForcibly().waitFor();
        Process second = operator(kubeconfig, "second");
        try {
          // the second operator's server writes its own known_hosts line (a new host key, most often a new port)
          await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(knownHosts)
              && !Files.readString(knownHosts).equals(firstServer) && Files.readString(knownHosts).endsWith("\n"));
          String line = Files.readString(knownHosts).strip();
          int port = Integer.parseInt(line.substring(line.indexOf("]:") + 2, line.indexOf(' ')));
          await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
            var status = jobs.withName("moved").get().getStatus();
            assertThat(status.instance.sshPort).isEqualTo(port);
            assertThat(status.attachCommand).contains(" -p " + port + " ");
          });
          var machine = dev.trainingjob.operator.cli.plugin.JobAccess.machine(api.client(), "default", "moved", tmp.resolve("local"));
          assertThat(machine.target().port()).isEqualTo(port);
          assertThat(machine.access().attachCommand()).isEqualTo(jobs.withName("moved").get().getStatus().attachCommand);

          Files.writeString(tmp.resolve("local/homes/tj-" + ref.uid()).resolve(ref.directory()).resolve("job/go"), "");
          await().atMost(Duration.ofSeconds(90)).until(() -> {
            TrainingJob j = jobs.withName("moved").get();
            return phase(j) == Phase.Succeeded && Conditions.isTrue(j.getStatus(), ConditionType.RELEASED);
          });
        } finally {
          second.destroyForcibly().waitFor();
        }
      } finally {
        first.destroyForcibly().waitFor();
        if (session != null) {
          Screen.quit(session);
        }
      }
    }
  }

  private static Phase phase(TrainingJob job) {
    return job == null || job.getStatus() == null ? null : job.getStatus().phase;
  }
}
