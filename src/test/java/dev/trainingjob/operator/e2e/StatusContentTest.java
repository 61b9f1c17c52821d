package dev.trainingjob.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.Assembly;
import dev.trainingjob.operator.OperatorRuntime;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.embedded.EmbeddedKubernetes;
import dev.trainingjob.operator.status.Conditions;
import dev.trainingjob.operator.support.Jobs;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What status tells about a running script with no SDK: progress parsed from its output, an ETA, usage; never its secrets. */
class StatusContentTest {
  static final String TQDM_LIKE = """
      import os, sys, time
      print("using token", os.environ["HUB_TOKEN"], flush=True)
      for i in range(0, 101, 5):
          sys.stdout.write(f"\\r{i:3d}%|{'#' * (i // 10):10s}| {i * 10}/1000 [00:01<00:01, 9.9it/s, loss={1 - i / 200:.3f}]")
          sys.stdout.flush()
          time.sleep(0.25)
      print()
      """;

  @TempDir
  Path tmp;
  EmbeddedKubernetes api;
  OperatorRuntime operator;

  @BeforeEach
  void start() {
    api = new EmbeddedKubernetes().start(0);
    operator = Assembly.start(api.client(), OperatorConfig.defaults().with(c -> {
      c.defaultProvider = "local";
      c.localProvider = true;
      c.pollInterval = c.probeInterval = Duration.ofMillis(200);
      c.progressWriteInterval = Duration.ofMillis(300);
      c.metricsPort = -1;
      c.outputDir = tmp.resolve("outputs");
      c.localWorkRoot = tmp.resolve("local");
    }));
  }

  @AfterEach
  void stop() {
    operator.close();
    api.close();
  }

  private TrainingJob get() {
    return api.client().resources(TrainingJob.class).inNamespace("default").withName("bar").get();
  }

  @Test
  void progressFromATqdmBarWithAnEtaUsageAndNoSecretInTheLogTail() throws InterruptedException {
    api.client().resource(new SecretBuilder().withNewMetadata().withName("hub").endMetadata()
        .addToStringData("token", "hf_0123456789abcdef").build()).inNamespace("default").create();
    TrainingJob job = Jobs.inline("bar", "train.py", Map.of("train.py", TQDM_LIKE));
    job.getSpec().env = List.of(Jobs.envFromSecret("HUB_TOKEN", "hub", "token"));
    api.client().resource(job).inNamespace("default").create();

    await().atMost(Duration.ofSeconds(60)).until(() -> get() != null && get().getStatus() != null && get().getStatus().progress != null
        && get().getStatus().progress.percent != null && get().getStatus().progress.percent > 0 && get().getStatus().progress.percent < 100
        // the probe that first sees the script run has no pace yet, so no ETA: the one after it has
        && get().getStatus().progress.eta != null);
    var running = get().getStatus();
    assertThat(running.progress.source).isEqualTo("log");
    assertThat(running.progress.totalSteps).isEqualTo(1000L);
    assertThat(running.progress.metrics).containsKey("loss");
    // whole seconds: an ETA a moment away may round down to the second the script started in
    assertThat(Instant.parse(running.progress.eta)).isAfterOrEqualTo(Instant.parse(running.timings.bootstrapped).truncatedTo(
        java.time.temporal.ChronoUnit.SECONDS));
    assertThat(running.usage.diskTotalBytes).isPositive();
    assertThat(Conditions.find(running, "DiskPressure")).isNotNull();

    await().atMost(Duration.ofSeconds(60)).until(() -> get().getStatus().phase == Phase.Succeeded);
    var done = get().getStatus();
    assertThat(done.progress.summary).isEqualTo("100%");
    assertThat(done.logTail).anyMatch(l -> l.contains("using token ******"));
    assertThat(get().toString()).doesNotContain("hf_0123456789abcdef");
    assertThat(operator.awaitEventsWritten(Duration.ofSeconds(30))).as("the operator's Events written").isTrue();
    assertThat(api.client().v1().events().inNamespace("default").list().getItems())
        .allSatisfy(e -> assertThat(e.getMessage()).doesNotContain("hf_0123456789abcdef"));
  }
}
