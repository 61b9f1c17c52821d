package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.config.OperatorConfig;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.processing.retry.GenericRetry;
import java.time.Duration;

/** All JOSDK tuning in one place. */
public final class OperatorFactory {
  private OperatorFactory() {}

  public static Operator create(KubernetesClient client, OperatorConfig config, JobContext.Services services) {
    Operator operator = new Operator(o -> o
        .withKubernetesClient(client)
        // server-side apply is not served by every API (the embedded one of the demo answers 415)
        .withUseSSAToPatchPrimaryResource(false)
        .checkingCRDAndValidateLocalModel(false)
        .withCloseClientOnStop(false)
        .withConcurrentReconciliationThreads(config.reconcileThreads()));
    operator.register(new TrainingJobReconciler(services), c -> {
      if (!config.namespaces().isEmpty()) {
        c.settingNamespaces(config.namespaces());
      }
      // a job can wait on a machine for long: keep retrying, but never faster than every few minutes
      c.withRetry(new GenericRetry()
          .setInitialInterval(Duration.ofSeconds(2).toMillis())
          .setIntervalMultiplier(2)
          .setMaxInterval(Duration.ofMinutes(3).toMillis())
          .withoutMaxAttempts());
    });
    return operator;
  }
}
