package dev.trainingjob.operator.e2e;

import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.Assembly;
import dev.trainingjob.operator.OperatorRuntime;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.embedded.EmbeddedKubernetes;
import dev.trainingjob.operator.remote.JobRef;
import dev.trainingjob.operator.support.Jobs;
import dev.trainingjob.operator.support.Processes;
import io.fabric8.kubernetes.client.dsl.Resource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A script's exit is noticed when it happens, not at the next probe: the operator waits for it on the machine. The
 * probe interval here is a minute, so a job that ends within a third of it was told by the wait; and the wait ends with
 * its job, leaving nothing behind on the machine.
 */
class ExitNoticeTest {
  private static final Duration PROBE_INTERVAL = Duration.ofMinutes(1);
  private static final String WAITS_FOR_GO = """
      import os, time
      print("waiting for the go file", flush=True)
      while not os.path.exists("go"):
          time.sleep(0.05)
      print("going")
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
      c.pollInterval = Duration.ofMillis(200);
      c.probeInterval = PROBE_INTERVAL;
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

  private Resource<TrainingJob> job(String name) {
    return api.client().resources(TrainingJob.class).inNamespace("default").withName(name);
  }

  private Phase phase(String name) {
    TrainingJob j = job(name).get();
    return j == null || j.getStatus() == null ? null : j.getStatus().phase;
  }

  /** Running, with the operator waiting on the machine for the script's exit. */
  private JobRef runningAndWaitedFor(String name) {
    api.client().resource(Jobs.inline(name, "train.py", Map.of("train.py", WAITS_FOR_GO))).inNamespace("default").create();
    await().atMost(Duration.ofSeconds(90)).until(() -> phase(name) == Phase.Running);
    JobRef ref = JobRef.of(job(name).get());
    await().atMost(Duration.ofSeconds(30)).until(() -> Processes.withCommandLine("tj-await-change", ref.directory()) == 1);
    return ref;
  }

  @Test
  void anExitIsNoticedAtOnceNotAtTheNextProbe() throws Exception {
    JobRef ref = runningAndWaitedFor("quick");

    Files.writeString(tmp.resolve("local/homes/tj-" + ref.uid()).resolve(ref.directory()).resolve("job/go"), "");

    await().atMost(PROBE_INTERVAL.dividedBy(3)).until(() -> phase("quick") == Phase.Succeeded);
  }

  @Test
  void theWaitEndsWithItsJob() {
    JobRef ref = runningAndWaitedFor("deleted");

    job("deleted").delete();

    await().atMost(Duration.ofSeconds(60)).until(() -> job("deleted").get() == null);
    await().atMost(Duration.ofSeconds(30)).until(() -> Processes.withCommandLine("tj-await-change", ref.directory()) == 0);
  }
}
