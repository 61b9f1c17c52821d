package dev.trainingjob.operator.bench;

import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.Assembly;
import dev.trainingjob.operator.OperatorRuntime;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.embedded.EmbeddedKubernetes;
import dev.trainingjob.operator.support.Jobs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * From a script's exit to Succeeded, as a user watching the job sees it, on the local provider at the default probe
 * interval: a script of 1.5 s that records the moment it exits, five jobs one after the other, the median and each run.
 * Run with {@code mvn -o test -Dtest=ExitNoticeBench -Dbench=true}; reports, asserts nothing.
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class ExitNoticeBench {
  private static final int RUNS = 5;
  private static final String SCRIPT = """
      import time
      time.sleep(1.5)
      print("exited_at", repr(time.time()), flush=True)
      """;

  @TempDir
  Path tmp;

  @Test
  void fromTheScriptsExitToSucceeded() throws Exception {
    try (EmbeddedKubernetes api = new EmbeddedKubernetes().start(0)) {
      OperatorRuntime operator = Assembly.start(api.client(), OperatorConfig.defaults().with(c -> {
        c.defaultProvider = "local";
        c.localProvider = true;
        c.metricsPort = -1;
        c.outputDir = tmp.resolve("outputs");
        c.localWorkRoot = tmp.resolve("local");
      }));
      try {
        List<Double> seconds = new ArrayList<>();
        for (int i = 0; i < RUNS; i++) {
          String name = "exit-" + i;
          var jobs = api.client().resources(TrainingJob.class).inNamespace("default");
          jobs.resource(Jobs.inline(name, "train.py", Map.of("train.py", SCRIPT))).create();
          long[] seenAt = new long[1];
          TrainingJob[] seen = new TrainingJob[1];
          await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(10)).until(() -> {
            seen[0] = jobs.withName(name).get();
            seenAt[0] = System.currentTimeMillis();
            return seen[0].getStatus() != null && seen[0].getStatus().phase == Phase.Succeeded;
          });
          // the script's last line says when it exited (the machine's clock is this one)
          String line = seen[0].getStatus().logTail.stream().filter(l -> l.startsWith("exited_at ")).findFirst().orElseThrow();
          seconds.add(seenAt[0] / 1000.0 - Double.parseDouble(line.substring("exited_at ".length()).strip()));
        }
        List<Double> sorted = seconds.stream().sorted().toList();
        String report = String.format("exit -> Succeeded at the default probe interval (%s): median %.2f s; runs %s%n",
            OperatorConfig.defaults().probeInterval(), sorted.get(RUNS / 2),
            seconds.stream().map(s -> String.format("%.2f", s)).toList());
        System.out.print(report);
        Files.writeString(Path.of("target", "exit-notice.txt"), report);
      } finally {
        operator.close();
      }
    }
  }
}
