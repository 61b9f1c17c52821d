package dev.trainingjob.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.cli.Main;
import dev.trainingjob.operator.demo.Demo;
import dev.trainingjob.operator.fake.ec2.FakeEc2;
import dev.trainingjob.operator.fake.ec2.FakeInstance;
import dev.trainingjob.operator.provider.ec2.Ec2Tags;
import dev.trainingjob.operator.status.Conditions;
import dev.trainingjob.operator.support.Jobs;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `demo` as someone runs it on a laptop that is set up for AWS and for their team's cluster. It is a process of its own,
 * since only a new process can be given an environment: the one a user's shell would give it.
 */
class DemoOnALaptopTest {
  /** The job prints which of the operator's settings it can see, and fails if it sees any. */
  static final String PEEK = """
      import os, sys
      secrets = ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_REGION", "AWS_ENDPOINT_URL", "KUBECONFIG")
      seen = [k for k in secrets if k in os.environ]
      seen += ["a value"] if any("laptop-secret" in v or "users-cluster" in v for v in os.environ.values()) else []
      print("operator settings seen:", ", ".join(seen) or "none", flush=True)
      sys.exit(3 if seen else 0)
      """;

  @TempDir
  Path tmp;
  FakeEc2 aws;
  Process demo;
  final StringBuffer output = new StringBuffer();

  @AfterEach
  void stop() throws Exception {
    if (demo != null && demo.isAlive()) {
      demo.destroy(); // its shutdown hook closes the demo: the API, the operator, the local SSH server
      if (!demo.waitFor(30, TimeUnit.SECONDS)) {
        demo.destroyForcibly();
      }
    }
    if (aws != null) {
      aws.close();
    }
  }

  private Process startDemo(Map<String, String> environment, String... args) throws Exception {
    var command = new java.util.ArrayList<>(java.util.List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName(), "demo"));
    command.addAll(java.util.List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().putAll(environment);
    Process p = pb.start();
    p.getOutputStream().close();
    Thread reader = new Thread(() -> {
      try (InputStream in = p.getInputStream()) {
        byte[] buffer = new byte[8192];
        for (int n; (n = in.read(buffer)) > 0; ) {
          output.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
        }
      } catch (java.io.IOException e) {
        // the process ended
      }
    }, "demo-output");
    reader.setDaemon(true);
    reader.start();
    return p;
  }

  @Test
  void theDemoAsksAwsNothingAndItsJobSeesNoneOfTheOperatorsEnvironment() throws Exception {
    // the laptop's AWS account, here the fake on loopback (so even a demo that did ask would reach nothing else), holds a
    // team's training run: tagged as every install used to tag, older than any grace, unknown to the demo's own API
    aws = new FakeEc2(tmp.resolve("aws"));
    FakeInstance teamsRun = aws.launchTagged(Map.of(Ec2Tags.UID, UUID.randomUUID().toString(), Ec2Tags.NAMESPACE, "default",
        Ec2Tags.NAME, "teams-run", Ec2Tags.MANAGED_BY, "trainingjob-operator"), Instant.now().minus(Duration.ofHours(1)));
    Path kubeconfig = tmp.resolve("demo.kubeconfig");
    demo = startDemo(Map.of(
            "AWS_REGION", "us-east-1",
            "AWS_ENDPOINT_URL", aws.endpoint().toString(),
            "AWS_ACCESS_KEY_ID", "AKIDLAPTOP",
            "AWS_SECRET_ACCESS_KEY", "laptop-secret-0123456789",
            "AWS_EC2_METADATA_DISABLED", "true",
            "KUBECONFIG", tmp.resolve("users-cluster.kubeconfig").toString()),
        "--serve", "--kubeconfig-out", kubeconfig.toString(), "--work-dir", tmp.resolve("work").toString());
    await().atMost(Duration.ofSeconds(60)).until(() -> output.toString().contains("Press Ctrl-C to stop.") || !demo.isAlive());
    assertThat(demo.isAlive()).as(output::toString).isTrue();
    assertThat(output.toString()).as("a quiet console: what the demo says, no library warnings")
        .contains("Work directory (jobs, outputs): " + tmp.resolve("work").toAbsolutePath().normalize())
        .doesNotContain("WARN").doesNotContain("unstable version");

    try (KubernetesClient client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(Files.readString(kubeconfig))).build()) {
      TrainingJob job = Jobs.inline("peek", "peek.py", Map.of("peek.py", PEEK));
      job.getSpec().compute = null; // the demo's default provider, local
      client.resource(job).inNamespace("default").create();
      await().atMost(Duration.ofSeconds(120)).until(() -> {
        TrainingJob j = client.resources(TrainingJob.class).inNamespace("default").withName("peek").get();
        return j.getStatus() != null && j.getStatus().phase != null && j.getStatus().phase.isFinal()
            && Conditions.isTrue(j.getStatus(), ConditionType.RELEASED);
      });
      TrainingJob done = client.resources(TrainingJob.class).inNamespace("default").withName("peek").get();
      assertThat(done.getStatus().logTail).as(done.getStatus().message).anyMatch(l -> l.contains("operator settings seen: none"));
      assertThat(done.getStatus().phase).isEqualTo(Phase.Succeeded);
    }

    // by the time a whole job has run, an orphan sweeper would have swept long ago: the demo has none, and asked AWS nothing
    assertThat(aws.requests()).isEmpty();
    assertThat(aws.instance(teamsRun.id).state()).isEqualTo("running");
  }

  @Test
  void theDemosOperatorNeverStartsTheEc2ProviderAndRunsJobsLocally() {
    var config = Demo.config(tmp.resolve("work"));
    assertThat(config.ec2().enabled()).isFalse();
    assertThat(config.operatorId()).isNull();
    assertThat(config.localProvider()).isTrue();
    assertThat(config.defaultProvider()).isEqualTo("local");
  }
}
