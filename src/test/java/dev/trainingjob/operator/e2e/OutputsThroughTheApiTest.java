package dev.trainingjob.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.api.OutputSpec;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.demo.Demo;
import dev.trainingjob.operator.support.Jobs;
import dev.trainingjob.operator.support.Plugin;
import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
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
 * `kubectl trainingjob outputs` for a job whose outputs the operator collected: the demo's operator (local provider)
 * runs a job that writes outputs, and the plugin fetches them the way it does in a cluster, with the kubeconfig only:
 * the API server's service proxy to the operator's Service, then the operator's outputs endpoint.
 */
class OutputsThroughTheApiTest {
  static final String WRITES_OUTPUTS = """
      import os
      out = os.environ["TRAININGJOB_OUTPUT_DIR"]
      os.makedirs(os.path.join(out, "checkpoints"), exist_ok=True)
      open(os.path.join(out, "model.txt"), "w").write("weights")
      open(os.path.join(out, "checkpoints", "epoch-1.txt"), "w").write("epoch 1")
      print("saved", flush=True)
      """;

  @TempDir
  Path tmp;
  Demo demo;
  Path kubeconfig;

  @BeforeEach
  void start() throws Exception {
    demo = Demo.start(0, tmp.resolve("work"));
    kubeconfig = demo.api().writeKubeconfig(tmp.resolve("kubeconfig"));
  }

  @AfterEach
  void stop() {
    // release every job, so no screen session outlives the test
    demo.api().client().resources(TrainingJob.class).inNamespace("default").delete();
    await().atMost(Duration.ofSeconds(60)).until(() -> demo.api().client().resources(TrainingJob.class).inNamespace("default")
        .list().getItems().isEmpty());
    demo.close();
  }

  private void finished(String name, String script, List<String> outputs) {
    TrainingJob job = Jobs.inline(name, "train.py", Map.of("train.py", script));
    if (!outputs.isEmpty()) {
      job.getSpec().output = new OutputSpec();
      job.getSpec().output.paths = outputs;
    }
    demo.api().client().resource(job).inNamespace("default").create();
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      TrainingJob j = demo.api().client().resources(TrainingJob.class).inNamespace("default").withName(name).get();
      return j.getStatus() != null && j.getStatus().phase == Phase.Succeeded;
    });
  }

  @Test
  void theOperatorsCollectedOutputsComeThroughTheApiServersServiceProxy() throws Exception {
    finished("trained", WRITES_OUTPUTS, List.of("output"));
    // a link planted among the collected files is not followed out of the folder
    Path secret = Files.writeString(tmp.resolve("operator-secret.txt"), "not yours");
    Files.createSymbolicLink(demo.config().outputDir().resolve("default/trained/output/leak.txt"), secret);

    Path to = tmp.resolve("mine");
    Plugin.Result got = Plugin.run(kubeconfig, "outputs", "trained", "--to", to.toString());

    assertThat(got.code()).as(got.err()).isZero();
    assertThat(to.resolve("output/model.txt")).hasContent("weights");
    assertThat(to.resolve("output/checkpoints/epoch-1.txt")).hasContent("epoch 1");
    assertThat(to.resolve("output/leak.txt")).doesNotExist();
    assertThat(got.out()).contains(to.toRealPath().resolve("output/model.txt") + " (7 bytes)")
        .contains("2 files, 14 bytes, from the operator (trainingjob-system/trainingjob-operator-metrics)");
    // the road taken: the API server's service proxy, as in a cluster
    assertThat(demo.api().requests(r -> r.path().startsWith(
        "/api/v1/namespaces/trainingjob-system/services/trainingjob-operator-metrics:metrics/proxy/outputs/default/trained"))).hasSize(1);
  }

  @Test
  void noSuchJobNothingCollectedAndAnOperatorOutOfReachAreOneLineErrors() throws Exception {
    assertThat(Plugin.run(kubeconfig, "outputs", "nope", "--to", tmp.resolve("a").toString()).err())
        .isEqualTo("error: trainingjob default/nope not found\n");

    finished("plain", "print('no files')\n", List.of());
    Plugin.Result none = Plugin.run(kubeconfig, "outputs", "plain", "--to", tmp.resolve("b").toString());
    assertThat(none.code()).isEqualTo(1);
    assertThat(none.err()).startsWith("error: no outputs were collected for default/plain").doesNotContain("\n ");

    Plugin.Result noService = Plugin.run(kubeconfig, "outputs", "plain", "--to", tmp.resolve("c").toString(),
        "--operator-service", "not-there", "--operator-token-secret", "trainingjob-operator-outputs-token");
    assertThat(noService.code()).isEqualTo(1);
    assertThat(noService.err()).contains("the operator's Service trainingjob-system/not-there was not found")
        .contains("--operator-service");

    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort(); // nothing listens there once closed: an operator that is down
    }
    demo.api().exposeService("trainingjob-system", "down-metrics", "metrics", 8080, URI.create("http://127.0.0.1:" + closed));
    Plugin.Result down = Plugin.run(kubeconfig, "outputs", "plain", "--to", tmp.resolve("d").toString(),
        "--operator-service", "down-metrics", "--operator-token-secret", "trainingjob-operator-outputs-token");
    assertThat(down.code()).isEqualTo(1);
    assertThat(down.err()).contains("the operator's Service trainingjob-system/down-metrics does not answer")
        .contains("is the operator running?").hasLineCount(1);
  }

  /** A zip that ends between two entries reads as whole: without the operator's manifest at its end it is refused. */
  @Test
  void aDownloadCutShortBetweenFilesIsAnErrorAndLeavesNoFiles() throws Exception {
    finished("trained", WRITES_OUTPUTS, List.of("output"));
    var zip = new java.io.ByteArrayOutputStream();
    try (var out = new java.util.zip.ZipOutputStream(zip)) {
      out.putNextEntry(new java.util.zip.ZipEntry("output/model.txt"));
      out.write("weights".getBytes());
      out.closeEntry();
    }
    byte[] cut = java.util.Arrays.copyOf(zip.toByteArray(), zip.size() - 22 - 54); // no central directory: as if dropped
    HttpServer fake = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    fake.createContext("/outputs/", ex -> {
      ex.sendResponseHeaders(200, cut.length);
      ex.getResponseBody().write(cut);
      ex.close();
    });
    fake.start();
    try {
      demo.api().exposeService("trainingjob-system", "cut-metrics", "metrics", 8080,
          URI.create("http://127.0.0.1:" + fake.getAddress().getPort()));
      Path to = tmp.resolve("cut");
      Plugin.Result got = Plugin.run(kubeconfig, "outputs", "trained", "--to", to.toString(),
          "--operator-service", "cut-metrics", "--operator-token-secret", "trainingjob-operator-outputs-token");
      assertThat(got.code()).isEqualTo(1);
      assertThat(got.err()).startsWith("error: the download from the operator's Service trainingjob-system/cut-metrics was cut "
          + "short after 1 files (no manifest at its end)").hasLineCount(1);
      assertThat(to.resolve("output/model.txt")).as("not left to pass for the whole").doesNotExist();
    } finally {
      fake.stop(0);
    }
  }

  @Test
  void theTokenComesFromTheOperatorsSecretAndWithoutItNothingIsServed() throws Exception {
    finished("trained", WRITES_OUTPUTS, List.of("output"));
    String token = Files.readString(demo.config().outputsTokenFile()).strip();

    // a reader who cannot get the Secret is told which Secret, where, and which Role to be bound to
    Plugin.Result noSecret = Plugin.run(kubeconfig, "outputs", "trained", "--to", tmp.resolve("a").toString(),
        "--operator-token-secret", "not-there");
    assertThat(noSecret.code()).isEqualTo(1);
    assertThat(noSecret.err()).startsWith("error: the Secret trainingjob-system/not-there (the operator's outputs token) does not exist")
        .contains("bind the Role trainingjob-operator-outputs-reader in namespace trainingjob-system").hasLineCount(1);
    assertThat(tmp.resolve("a/output/model.txt")).doesNotExist();

    // a token that is not the operator's is refused by the operator itself
    var secrets = demo.api().client().secrets().inNamespace("trainingjob-system");
    secrets.resource(new io.fabric8.kubernetes.api.model.SecretBuilder().withNewMetadata().withName("guessed")
        .endMetadata().addToData("token", java.util.Base64.getEncoder().encodeToString("guessed".getBytes())).build()).create();
    Plugin.Result wrong = Plugin.run(kubeconfig, "outputs", "trained", "--to", tmp.resolve("b").toString(),
        "--operator-token-secret", "guessed");
    assertThat(wrong.code()).isEqualTo(1);
    assertThat(wrong.err()).startsWith("error: a valid X-Trainingjob-Outputs-Token header is required").hasLineCount(1);
    assertThat(tmp.resolve("b/output/model.txt")).doesNotExist();

    // the chart's Secret name, derived from the Service's: the download works, and the token is printed nowhere
    Plugin.Result got = Plugin.run(kubeconfig, "outputs", "trained", "--to", tmp.resolve("c").toString());
    assertThat(got.code()).as(got.err()).isZero();
    assertThat(got.out() + got.err() + noSecret.err() + wrong.err()).doesNotContain(token);
  }
}
