package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.Annotations;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.Shard;
import dev.trainingjob.operator.api.TrainingBudget;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.config.OperatorConfig;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.Cloner;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.javaoperatorsdk.operator.processing.retry.GenericRetry;
import java.time.Duration;
import java.util.Objects;
import java.util.stream.Collectors;

/** All JOSDK tuning in one place. */
public final class OperatorFactory {
  private OperatorFactory() {}

  public static Operator create(KubernetesClient client, OperatorConfig config, JobContext.Services services, Leadership leadership) {
    var election = config.leaderElection();
    Operator operator = new Operator(o -> {
      if (election.enabled()) {
        // of several replicas one reconciles; the Lease says which (each shard has its own: shards run side by side)
        o.withLeaderElectionConfiguration(new LeaderElectionConfiguration(config.leaseName(), election.leaseNamespace(),
            election.leaseDuration(), election.renewDeadline(), election.retryPeriod(), election.identity(),
            new LeaderCallbacks(leadership::started, leadership::stopped, identity -> { }), election.exitOnStopLeading()));
      }
      o
        .withKubernetesClient(client)
        // server-side apply is not served by every API (the embedded one of the demo answers 415)
        .withUseSSAToPatchPrimaryResource(false)
        .checkingCRDAndValidateLocalModel(false)
        .withCloseClientOnStop(false)
        .withResourceCloner(new Cloner() {
          @Override
          public <R extends HasMetadata> R clone(R object) {
            R copy = client.getKubernetesSerialization().clone(object);
            // an unreadable spec keeps what was wrong with it: a JSON copy would be an empty spec,
            // failing the job for the wrong reason ("spec.script: is missing") instead of naming the field
            if (object instanceof TrainingJob job && job.getSpec() != null && job.getSpec().unreadable != null) {
              ((TrainingJob) copy).setSpec(job.getSpec());
            }
            return copy;
          }
        })
        .withConcurrentReconciliationThreads(config.reconcileThreads())
        // JOSDK's own reconciliation metrics, in the registry /metrics serves (no per-resource series)
        .withMetrics(MicrometerMetrics.withoutPerResourceMetrics(services.metrics().registry()));
    });
    operator.register(new TrainingJobReconciler(services), c -> {
      if (!config.namespaces().isEmpty()) {
        c.settingNamespaces(config.namespaces());
      }
      // this shard's jobs only: the API server filters the list and the watch, so another shard's jobs are never even cached
      c.withLabelSelector(Shard.labelSelector(config.shard()));
      // a job can wait on a machine for long: keep retrying, but never faster than every few minutes
      c.withRetry(new GenericRetry()
          .setInitialInterval(Duration.ofSeconds(2).toMillis())
          .setIntervalMultiplier(2)
          .setMaxInterval(Duration.ofMinutes(3).toMillis())
          .withoutMaxAttempts());
      // an update wakes a job when JOSDK's generation-aware filter would let it through, and also when only the rerun
      // annotation changed: a finished or suspended job waits for nothing and is not looked at again by itself
      c.withGenerationAware(false);
      c.withOnUpdateFilter(OperatorFactory::wakesTheJob);
    });
    if (!Shard.isDefault(config.shard())) {
      // budgets belong to no shard: the default shard keeps their figures, and every shard admits and settles its own jobs
      // through the same resourceVersion-checked ledger, so shards admitting in one namespace never over-admit
      return operator;
    }
    operator.register(new TrainingBudgetReconciler(services.budgets(), services.clock()), c -> {
      if (!config.namespaces().isEmpty()) {
        c.settingNamespaces(config.namespaces());
      }
      // every change counts (the operator's own status writes too: the gauges follow them), and a deletion is seen
      // without a finalizer, so a budget can be deleted while no operator runs
      c.withGenerationAware(false);
      c.withTriggerReconcilerOnAllEvents(true);
      c.withRetry(new GenericRetry()
          .setInitialInterval(Duration.ofSeconds(1).toMillis())
          .setIntervalMultiplier(2)
          .setMaxInterval(Duration.ofMinutes(1).toMillis())
          .withoutMaxAttempts());
    });
    return operator;
  }

  /**
   * The TrainingJob controller's view of TrainingBudgets: a budget that changed (a job settled, the limit raised, a new
   * period) wakes the jobs of its namespace that wait in Pending, which then look at the budgets again at once instead of
   * at their next poll. Only Pending jobs: a job past admission has nothing to do with a budget until it ends.
   */
  static InformerEventSource<TrainingBudget, TrainingJob> budgetEvents(EventSourceContext<TrainingJob> context) {
    var configuration = InformerEventSourceConfiguration.from(TrainingBudget.class, TrainingJob.class)
        .withName("trainingbudgets")
        .withNamespacesInheritedFromController()
        .withSecondaryToPrimaryMapper((TrainingBudget budget) -> context.getPrimaryCache()
            .list(budget.getMetadata().getNamespace(), OperatorFactory::waitsForAdmission)
            .map(ResourceID::fromResource)
            .collect(Collectors.toSet()))
        .build();
    return new InformerEventSource<>(configuration, context);
  }

  /**
   * Wakes a running job when its probe, made beside the reconciles ({@link ProbeRunner}), came back: its reconcile takes
   * the result at once instead of at its next poll.
   */
  static SimpleInboundEventSource<TrainingJob> probeEvents(ProbeRunner probes) {
    var source = new SimpleInboundEventSource<TrainingJob>("probes");
    probes.onResult(source::propagateEvent);
    return source;
  }

  /**
   * Which updates of a TrainingJob are reconciled: what JOSDK's generation-aware filter passes (a new generation, a finalizer
   * to add or just added, the deletion asked for) and a new value of {@link Annotations#RERUN}, which changes no generation.
   * The other requests (interrupt, release) act in phases the operator looks at every poll anyway; the operator's own status
   * writes still wake nothing.
   */
  static boolean wakesTheJob(TrainingJob newer, TrainingJob older) {
    Long before = older.getMetadata().getGeneration();
    Long after = newer.getMetadata().getGeneration();
    if (before == null || after != null && before < after) {
      return true;
    }
    var finalizers = newer.getMetadata().getFinalizers();
    if (finalizers == null || finalizers.isEmpty() || !finalizers.equals(older.getMetadata().getFinalizers())) {
      return true;
    }
    if (newer.isMarkedForDeletion() && !older.isMarkedForDeletion()) {
      return true;
    }
    return !Objects.equals(annotation(newer, Annotations.RERUN), annotation(older, Annotations.RERUN));
  }

  private static String annotation(TrainingJob job, String key) {
    var annotations = job.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(key);
  }

  private static boolean waitsForAdmission(TrainingJob job) {
    return job.getStatus() == null || job.getStatus().phase == null || job.getStatus().phase == Phase.Pending;
  }
}
