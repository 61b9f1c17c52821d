package dev.trainingjob.operator.fake.ec2;

import dev.trainingjob.operator.job.Reason;

import dev.trainingjob.operator.OperatorRuntime;
import dev.trainingjob.operator.api.ComputeSpec;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.embedded.EmbeddedKubernetes;
import dev.trainingjob.operator.provider.ComputeProvider;
import dev.trainingjob.operator.provider.ec2.Ec2Clients;
import dev.trainingjob.operator.provider.ec2.Ec2Provider;
import dev.trainingjob.operator.job.EventRecorder;
import dev.trainingjob.operator.job.KubernetesEventRecorder;
import dev.trainingjob.operator.remote.ssh.SshRemoteHosts;
import dev.trainingjob.operator.support.Jobs;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * The embedded Kubernetes API, the fake EC2 endpoint, and an operator whose only provider is ec2,
 * talking to the fake through the real SDK. The guard's power-off command is always the fake's
 * recorder here: a fake instance is this machine, and a test must never power it off.
 */
public final class Ec2Harness implements AutoCloseable {
  public static final String NS = "default";
  /** The guard's power-off command on fake instances: recorded, and the fake terminates the instance. */
  public static final String POWER_OFF = "fake-power-off \"$1\"";
  public static final String OPERATOR_CIDR = "192.0.2.10/32";
  public final FakeEc2 fake;
  public final EmbeddedKubernetes api = new EmbeddedKubernetes().start(0);
  public final Path root;
  public OperatorConfig config;
  public Ec2Provider provider;
  public Ec2Clients clients;
  private OperatorRuntime operator;
  /** Where the provider's AWS call counts go. */
  public final io.micrometer.core.instrument.simple.SimpleMeterRegistry meters = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
  /** Sees every Event the provider records, before it is written; may throw to fault the operator there. */
  public volatile BiConsumer<String, String> onProviderEvent = (reason, message) -> { };

  /** The operator id of a harness's operator unless a test names another. */
  public static final String OPERATOR_ID = "test-operator";
  /** Whether close() closes the fake: not one another harness shares. */
  private final boolean ownsFake;

  public Ec2Harness(Path root) throws IOException {
    this(root, OPERATOR_ID);
  }

  /** A harness whose operator is the install {@code operatorId}. */
  public Ec2Harness(Path root, String operatorId) throws IOException {
    this(root, new FakeEc2(root.resolve("fake")), true, operatorId);
  }

  /**
   * A harness with an API of its own and an operator named {@code operatorId}, in the account of {@code fake}: another
   * install beside the one whose harness made the fake (which closes it).
   */
  public static Ec2Harness sharing(FakeEc2 fake, Path root, String operatorId) throws IOException {
    return new Ec2Harness(root, fake, false, operatorId);
  }

  private Ec2Harness(Path root, FakeEc2 fake, boolean ownsFake, String operatorId) throws IOException {
    this.root = root;
    this.fake = fake;
    this.ownsFake = ownsFake;
    config = OperatorConfig.defaults().with(c -> {
      c.operatorId = operatorId;
      c.defaultProvider = "ec2";
      c.pollInterval = c.probeInterval = Duration.ofMillis(250);
      c.sshReadyTimeout = Duration.ofSeconds(60);
      c.metricsPort = -1;
      c.outputDir = root.resolve("outputs");
      c.localWorkRoot = root.resolve("local");
      c.remote.stopGrace = Duration.ofSeconds(1);
      c.ec2.region = "us-east-1";
      c.ec2.endpoint = fake.endpoint();
      c.ec2.sshCidrs = List.of(OPERATOR_CIDR);
      c.ec2.sshPort = fake.sshPort();
      c.ec2.shutdownCommand = POWER_OFF;
    });
  }

  /** The client the operator talks to the API with; a test may give it one of its own (see EmbeddedKubernetes.newClient). */
  public KubernetesClient operatorClient;

  /** How the operator reaches machines; null: over SSH, as in production. */
  public dev.trainingjob.operator.remote.RemoteHosts remoteHosts;

  public Ec2Harness startOperator() {
    provider = newProvider();
    List<ComputeProvider> providers = List.of(provider);
    operator = OperatorRuntime.start(operatorClient(), config, providers,
        remoteHosts != null ? remoteHosts : new SshRemoteHosts(config.remote()), List.of(clients));
    return this;
  }

  /** A provider as a fresh operator process would have it: nothing in memory, everything found again in the fake. */
  private KubernetesClient operatorClient() {
    return operatorClient != null ? operatorClient : api.client();
  }

  public Ec2Provider newProvider() {
    clients = Ec2Clients.create(config.ec2(), StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDFAKE", "fake-secret")),
        meters);
    EventRecorder real = new KubernetesEventRecorder(operatorClient());
    EventRecorder hooked = new EventRecorder() {
      @Override
      public void normal(TrainingJob job, Reason reason, String message) {
        onProviderEvent.accept(reason.name(), message);
        real.normal(job, reason, message);
      }

      @Override
      public void warning(TrainingJob job, Reason reason, String message) {
        onProviderEvent.accept(reason.name(), message);
        real.warning(job, reason, message);
      }
    };
    return new Ec2Provider(config.ec2(), config.installId(), config.pollInterval(), clients, operatorClient(), hooked,
        config.outputDir(), Clock.systemUTC());
  }

  /**
   * Creates the job and stops the operator as soon as RunInstances answered, before it wrote status or reached
   * the instance: the process dies there. Returns once the operator is stopped.
   */
  public void stopOperatorRightAfterTheLaunch(TrainingJob job) {
    var launched = new java.util.concurrent.CountDownLatch(1);
    onProviderEvent = (reason, message) -> {
      if ("Launched".equals(reason)) {
        launched.countDown();
        onProviderEvent = (r, m) -> { };
        throw new IllegalStateException("operator killed after RunInstances returned");
      }
    };
    create(job);
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> launched.getCount() == 0);
    stopOperator();
  }

  public void stopOperator() {
    if (operator != null) {
      operator.close();
      operator = null;
    }
  }

  public KubernetesClient client() {
    return api.client();
  }

  public static TrainingJob job(String name, String script) {
    TrainingJob job = Jobs.inline(name, "train.py", Map.of("train.py", script));
    job.getSpec().compute = new ComputeSpec();
    job.getSpec().compute.ec2 = new ComputeSpec.Ec2Spec();
    job.getSpec().compute.ec2.instanceType = "g5.xlarge";
    job.getSpec().compute.ec2.image = "ubuntu-24.04";
    return job;
  }

  public TrainingJob create(TrainingJob job) {
    return client().resource(job).inNamespace(NS).create();
  }

  public TrainingJob get(String name) {
    return client().resources(TrainingJob.class).inNamespace(NS).withName(name).get();
  }

  /** The job's phase; null before the operator first wrote status, or once the resource is gone. */
  public dev.trainingjob.operator.api.Phase phase(String name) {
    TrainingJob job = get(name);
    return job == null || job.getStatus() == null ? null : job.getStatus().phase;
  }

  /** Waits until every Event the operator recorded so far is written to the API. */
  public void eventsWritten() {
    dev.trainingjob.operator.support.OperatorHarness.eventsWritten(operator);
  }

  /** The job's Events, once every Event the operator recorded before this call is written (they are written beside it). */
  public List<Event> events(String name) {
    eventsWritten();
    return client().v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName())).toList();
  }

  @Override
  public void close() {
    stopOperator();
    if (ownsFake) {
      fake.close();
    }
    if (operatorClient != null) {
      operatorClient.close();
    }
    api.close();
  }
}
