package dev.trainingjob.operator.demo;

import dev.trainingjob.operator.Assembly;
import dev.trainingjob.operator.OperatorRuntime;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.embedded.EmbeddedKubernetes;
import io.fabric8.kubernetes.client.utils.Serialization;
import dev.trainingjob.operator.outputs.OperatorService;
import dev.trainingjob.operator.outputs.OutputsToken;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The embedded Kubernetes API plus the operator with `local` as its default provider, for a laptop: it never starts the
 * ec2 provider or its sweeper, so it asks AWS nothing (not even the SDK's default chains for a region or credentials),
 * whatever AWS settings the laptop has, and cannot touch an instance of anyone's.
 */
public final class Demo implements AutoCloseable {
  public static final String EXAMPLE = "/examples/demo-job.yaml";
  private final EmbeddedKubernetes api;
  private final OperatorRuntime operator;
  private final OperatorConfig config;
  /** Whether this demo's jobs are being stopped already (its own timeout, then Ctrl-C, would otherwise stop them twice). */
  private final java.util.concurrent.atomic.AtomicBoolean stopClaimed = new java.util.concurrent.atomic.AtomicBoolean();

  private Demo(EmbeddedKubernetes api, OperatorRuntime operator, OperatorConfig config) {
    this.api = api;
    this.operator = operator;
    this.config = config;
  }

  /** Starts the API on 127.0.0.1:port (0: any free port) and the operator, with state under workDir. */
  public static Demo start(int port, Path workDir) {
    OperatorConfig config = config(workDir);
    EmbeddedKubernetes api = new EmbeddedKubernetes().start(port);
    OperatorRuntime operator = null;
    try {
      operator = Assembly.start(api.client(), config);
      serveOutputs(api, operator, config);
      return new Demo(api, operator, config);
    } catch (IOException e) {
      close(operator, api);
      throw new UncheckedIOException("cannot serve the operator's HTTP port on 127.0.0.1", e);
    } catch (RuntimeException e) {
      close(operator, api);
      throw e;
    }
  }

  private static void close(OperatorRuntime operator, EmbeddedKubernetes api) {
    if (operator != null) {
      operator.close();
    }
    api.close();
  }

  /**
   * The operator's HTTP port on the loopback interface only (a laptop's), behind the Service a cluster would have, so
   * `kubectl trainingjob outputs` takes the same road as in a cluster: the API server's service proxy, then the operator.
   */
  private static void serveOutputs(EmbeddedKubernetes api, OperatorRuntime operator, OperatorConfig config) throws IOException {
    OperatorService service = OperatorService.DEFAULT;
    // as the chart does: a random token, in the Secret the plugin reads and in the file the operator reads (never on a
    // command line); a new one each start, since nothing but this process and its API ever holds it
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    String token = HexFormat.of().formatHex(random);
    Path file = config.outputsTokenFile();
    Files.createDirectories(file.getParent());
    Files.deleteIfExists(file);
    Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, token);
    api.client().secrets().inNamespace(service.namespace()).resource(new SecretBuilder().withNewMetadata()
        .withName(service.tokenSecret()).withNamespace(service.namespace()).endMetadata()
        .addToData(OutputsToken.SECRET_KEY, Base64.getEncoder().encodeToString(token.getBytes(StandardCharsets.UTF_8)))
        .build()).createOr(NonDeletingOperation::update);
    int port = operator.serve(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    api.exposeService(service.namespace(), service.name(), service.portName(), 8080, URI.create("http://127.0.0.1:" + port));
  }

  /** The demo's operator: the local provider, and nothing that reaches AWS. */
  public static OperatorConfig config(Path workDir) {
    return OperatorConfig.defaults().with(c -> {
      c.defaultProvider = "local";
      c.localProvider = true;
      c.operatorId = null;
      c.ec2.enabled = false;
      c.pollInterval = Duration.ofSeconds(1);
      c.probeInterval = Duration.ofSeconds(1);
      // one short job on a screen: progress is worth writing every second (no metrics port: a laptop runs it)
      c.progressWriteInterval = Duration.ofSeconds(1);
      c.metricsPort = -1;
      c.outputDir = workDir.resolve("outputs");
      c.outputsTokenFile = workDir.resolve("outputs-token");
      c.localWorkRoot = workDir.resolve("local");
    });
  }

  public EmbeddedKubernetes api() {
    return api;
  }

  /** The operator the demo runs. */
  public OperatorRuntime operator() {
    return operator;
  }

  public OperatorConfig config() {
    return config;
  }

  /** The bundled example job, as in deploy/examples/demo-job.yaml. */
  public static TrainingJob example() throws IOException {
    try (InputStream in = Demo.class.getResourceAsStream(EXAMPLE)) {
      if (in == null) {
        throw new IOException("the bundled example " + EXAMPLE + " is missing from the jar");
      }
      return Serialization.unmarshal(in, TrainingJob.class);
    }
  }

  /** True for the first caller only: the one that stops this demo's jobs and says so. */
  public boolean claimStop() {
    return stopClaimed.compareAndSet(false, true);
  }

  /**
   * Ends every job before the demo goes: each is deleted, so the operator gives its script the stop notice (the interrupt
   * file, SIGTERM, the grace, then every process of the job is killed) and releases its machine, as it does for any deleted
   * job. Waits until they are gone, at most {@code within}. Returns how many jobs were stopped and how many are left.
   */
  public Stopped stopJobs(Duration within) {
    var client = api.client();
    var jobs = client.resources(TrainingJob.class).inAnyNamespace().list().getItems();
    if (jobs.isEmpty()) {
      return new Stopped(0, 0);
    }
    client.resources(TrainingJob.class).inAnyNamespace().delete();
    java.time.Instant deadline = java.time.Instant.now().plus(within);
    int left = 0;
    for (TrainingJob job : jobs) {
      // a watch says when the finalizer let the job go (its machine released)
      long remaining = Math.max(1, Duration.between(java.time.Instant.now(), deadline).toMillis());
      try {
        client.resources(TrainingJob.class).inNamespace(job.getMetadata().getNamespace()).withName(job.getMetadata().getName())
            .waitUntilCondition(java.util.Objects::isNull, remaining, java.util.concurrent.TimeUnit.MILLISECONDS);
      } catch (io.fabric8.kubernetes.client.KubernetesClientTimeoutException stillThere) {
        left++;
      }
    }
    return new Stopped(jobs.size(), left);
  }

  /** What {@link #stopJobs} did. */
  public record Stopped(int jobs, int left) {}

  @Override
  public void close() {
    operator.close();
    api.close();
  }
}
