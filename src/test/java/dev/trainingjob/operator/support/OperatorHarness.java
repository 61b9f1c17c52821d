package dev.trainingjob.operator.support;

import dev.trainingjob.operator.OperatorRuntime;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.embedded.EmbeddedKubernetes;
import dev.trainingjob.operator.provider.ComputeProvider;
import dev.trainingjob.operator.remote.RemoteHosts;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;

/** The embedded API plus a started operator with short intervals, for reconciler tests. */
public final class OperatorHarness implements AutoCloseable {
  public static final String NS = "default";
  public final EmbeddedKubernetes api = new EmbeddedKubernetes().start(0);
  public final OperatorRuntime operator;

  public OperatorHarness(String defaultProvider, List<ComputeProvider> providers, RemoteHosts remote) {
    this(OperatorConfig.defaults().with(c -> {
      c.defaultProvider = defaultProvider;
      c.pollInterval = c.probeInterval = Duration.ofMillis(200);
      c.metricsPort = -1;
    }), providers, remote);
  }

  public OperatorHarness(OperatorConfig config, List<ComputeProvider> providers, RemoteHosts remote) {
    operator = OperatorRuntime.start(api.client(), config, providers, remote, List.of());
  }

  public KubernetesClient client() {
    return api.client();
  }

  public TrainingJob create(TrainingJob job) {
    return client().resource(job).inNamespace(NS).create();
  }

  public TrainingJob get(String name) {
    return client().resources(TrainingJob.class).inNamespace(NS).withName(name).get();
  }

  /** Waits until every Event the operator recorded so far is written to the API. */
  public void eventsWritten() {
    eventsWritten(operator);
  }

  /** Waits until every Event {@code operator} (null: none) recorded so far is written to the API. */
  public static void eventsWritten(OperatorRuntime operator) {
    try {
      if (operator != null && !operator.awaitEventsWritten(Duration.ofSeconds(30))) {
        throw new AssertionError("the operator's Events were not written within 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The job's Events, once every Event the operator recorded before this call is written (they are written beside it). */
  public List<Event> events(String name) {
    eventsWritten();
    return client().v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName())).toList();
  }

  @Override
  public void close() {
    operator.close();
    api.close();
  }
}
