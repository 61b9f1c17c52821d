package dev.trainingjob.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.cli.Main;
import dev.trainingjob.operator.remote.JobRef;
import dev.trainingjob.operator.support.Jobs;
import dev.trainingjob.operator.support.Screen;
import dev.trainingjob.operator.support.Tmux;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo and the plugin as a person meets them: in a real terminal (tmux), keys and all. What the terminal received,
 * escape sequences included, is recorded from its first byte.
 */
class DemoInATerminalTest {
  @TempDir
  Path tmp;
  Tmux tmux;

  @BeforeEach
  void terminal() {
    tmux = new Tmux(tmp);
  }

  /** The screen session of the job a test started, to end should the test fail half-way. */
  String session;

  @AfterEach
  void close() throws Exception {
    try {
      // a test that failed half-way: the demo still serving is stopped as a person stops it, so it stops its job
      for (String window : List.of("demo", "serve")) {
        if (Files.exists(tmp.resolve(window + ".sh")) && tmux.exitStatus(window) == null) {
          tmux.send(window, "C-c");
          await().atMost(Duration.ofSeconds(90)).until(() -> tmux.exitStatus(window) != null);
        }
      }
    } finally {
      tmux.close();
      if (session != null) {
        Screen.quit(session);
      }
    }
  }

  /** The jar's command line, as a shell command (the classpath written out: it is longer than a tmux command may be). */
  private String jar(String... args) {
    List<String> words = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    words.addAll(List.of(args));
    return String.join(" ", words.stream().map(w -> "'" + w.replace("'", "'\\''") + "'").toList());
  }

  @Test
  void theDemosTableStartsAtPendingAndItsClosingLinesSayHowTheJobEnded() throws Exception {
    Path work = tmp.resolve("work");
    Path recording = tmux.start("demo", jar("demo", "--work-dir", work.toString()), 160, 50);

    await().atMost(Duration.ofMinutes(3)).until(() -> tmux.exitStatus("demo") != null);
    String seen = Tmux.text(recording);
    assertThat(tmux.exitStatus("demo")).as(seen).isZero();
    List<String> lines = seen.lines().toList();
    int header = lines.indexOf(lines.stream().filter(l -> l.startsWith("NAME ")).findFirst().orElseThrow());
    assertThat(lines.get(header + 1)).as("the first frame of the table").startsWith("demo").contains("Pending");
    assertThat(seen).as("the table shows the phases the job went through")
        .containsPattern("(?m)^demo +Running").containsPattern("(?m)^demo +Succeeded +100%");
    Path outputs = work.resolve("outputs/default/demo").toAbsolutePath();
    assertThat(seen).as("the closing lines")
        .contains("demo Succeeded: The script exited with code 0")
        .contains("Outputs collected to " + outputs)
        .containsPattern("output/model\\.json \\(\\d+ bytes\\)")
        .containsPattern("Timeline \\(from creation\\): machine up [0-9.]+s, SSH ready [0-9.]+s, script started [0-9.]+s, "
            + "script ended [0-9.]+s, released [0-9.]+s")
        .doesNotContain("WARN").doesNotContain("Exception");
    assertThat(outputs.resolve("output/model.json")).exists();
  }

  @Test
  void attachReachesTheJobsScreenSessionAndCtrlCOfTheDemoLeavesNothingRunning() throws Exception {
    Path work = tmp.resolve("work");
    Path kubeconfig = tmp.resolve("kubeconfig");
    Path served = tmux.start("serve", jar("demo", "--serve", "--work-dir", work.toString(), "--kubeconfig-out",
        kubeconfig.toString()), 160, 50);
    await().atMost(Duration.ofSeconds(90)).until(() -> Tmux.text(served).contains("Press Ctrl-C to stop.")
        || tmux.exitStatus("serve") != null);
    assertThat(tmux.exitStatus("serve")).as(Tmux.text(served)).isNull();

    try (KubernetesClient client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(Files.readString(kubeconfig))).build()) {
      TrainingJob job = Jobs.inline("ticks", "ticks.py", Map.of("ticks.py",
          "import time\nfor i in range(100000):\n    print('tick', i, flush=True)\n    time.sleep(0.5)\n"));
      job.getSpec().compute = null; // the demo's default provider, local
      client.resource(job).inNamespace("default").create();
      await().atMost(Duration.ofSeconds(120)).until(() -> {
        TrainingJob j = client.resources(TrainingJob.class).inNamespace("default").withName("ticks").get();
        return j.getStatus() != null && j.getStatus().phase == Phase.Running;
      });
      session = JobRef.of(client.resources(TrainingJob.class).inNamespace("default").withName("ticks").get()).sessionName();

      // the plugin's attach, with the demo's kubeconfig and nothing else: screen's window, the ticks printed there
      Path attached = tmux.start("attach", "KUBECONFIG='" + kubeconfig + "' " + jar("attach", "ticks"), 100, 30);
      await().atMost(Duration.ofSeconds(60)).until(() -> tmux.screen("attach").contains("tick ")
          || tmux.exitStatus("attach") != null);
      assertThat(tmux.exitStatus("attach")).as(tmux.screen("attach")).isNull();
      tmux.send("attach", "C-a", "d"); // screen's detach
      await().atMost(Duration.ofSeconds(30)).until(() -> tmux.exitStatus("attach") != null);
      assertThat(Tmux.text(attached)).containsPattern("\\[detached from \\d+\\." + java.util.regex.Pattern.quote(session) + "]");
      assertThat(tmux.exitStatus("attach")).isZero();
      assertThat(Screen.hasSession(session)).as("detached, the script goes on").isTrue();

      tmux.send("serve", "C-c");
      await().atMost(Duration.ofSeconds(120)).until(() -> tmux.exitStatus("serve") != null);
      assertThat(Tmux.text(served)).contains("each script gets the stop notice").contains("Stopped 1 job; nothing is left running.");
      assertThat(Screen.hasSession(session)).as("the script's screen session").isFalse();
      try (var homes = Files.list(work.resolve("local/homes"))) {
        assertThat(homes.toList()).as("the job's directory").isEmpty();
      }
    }
  }
}
