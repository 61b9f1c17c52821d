package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.cost.JobPrices;
import dev.trainingjob.operator.status.StatusRecorder;
import dev.trainingjob.operator.cost.PriceList;
import dev.trainingjob.operator.metrics.OperatorMetrics;
import dev.trainingjob.operator.provider.ComputeProvider;
import dev.trainingjob.operator.provider.ProviderRegistry;
import dev.trainingjob.operator.remote.RemoteHosts;
import dev.trainingjob.operator.support.Jobs;
import dev.trainingjob.operator.support.RecordingEvents;
import dev.trainingjob.operator.support.TestClock;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * The reconciler called directly, as JOSDK would call it, with a clock that moves only when the
 * test says so and Events kept in memory: reconcile decisions tested synchronously.
 */
final class SyncOperator {
  final OperatorConfig config;
  final TestClock clock = new TestClock(START);
  final RecordingEvents events = new RecordingEvents();
  final TrainingJobReconciler reconciler;

  final BudgetLedger budgets;

  SyncOperator(OperatorConfig config, String defaultProvider, List<ComputeProvider> providers, RemoteHosts hosts) {
    this(config, defaultProvider, providers, hosts, null, OperatorMetrics.discarding());
  }

  /** With the TrainingBudgets of the API {@code client} talks to (null: none anywhere), their gauges in {@code metrics}. */
  SyncOperator(OperatorConfig config, String defaultProvider, List<ComputeProvider> providers, RemoteHosts hosts,
      KubernetesClient client, OperatorMetrics metrics) {
    this(config, defaultProvider, providers, hosts, client, metrics, ProbeRunner.inline());
  }

  /** With running jobs probed by {@code probes} (inline elsewhere: a reconcile finds its probe's result at once). */
  SyncOperator(OperatorConfig config, String defaultProvider, List<ComputeProvider> providers, RemoteHosts hosts,
      KubernetesClient client, OperatorMetrics metrics, ProbeRunner probes) {
    this.config = config;
    budgets = new BudgetLedger(client, clock, metrics);
    var services = new JobContext.Services(config, new ProviderRegistry(defaultProvider, providers), hosts,
        new JobBundles(null), events, clock, JobPrices.of(PriceList.bundled()), metrics, budgets,
        new ShardClaim(null, config.shard()), probes);
    reconciler = new TrainingJobReconciler(services);
  }

  static final Instant START = Instant.parse("2026-01-01T00:00:00Z");

  /** A job as the API server would hand it over: with a uid, a generation, and created as the test clock starts. */
  static TrainingJob job(String name) {
    TrainingJob job = Jobs.simple(name);
    job.getMetadata().setUid(UUID.randomUUID().toString());
    job.getMetadata().setGeneration(1L);
    job.getMetadata().setCreationTimestamp(START.toString());
    return job;
  }

  /**
   * One reconcile, as JOSDK runs it: the status the reconciler did not write (the write economy skipped it) is not there on the
   * next reconcile, which starts from what was last written, as an informer's cache would hand it over.
   */
  UpdateControl<TrainingJob> reconcile(TrainingJob job) throws Exception {
    UpdateControl<TrainingJob> control = reconciler.reconcile(job, null);
    String uid = job.getMetadata().getUid();
    if (control.isPatchStatus() || !written.containsKey(uid)) {
      written.put(uid, StatusRecorder.snapshot(job.getStatus()));
    } else {
      job.setStatus(StatusRecorder.snapshot(written.get(uid)));
    }
    return control;
  }

  /** The status last written, by uid. */
  private final java.util.Map<String, dev.trainingjob.operator.api.TrainingJobStatus> written = new java.util.concurrent.ConcurrentHashMap<>();

  DeleteControl delete(TrainingJob job) throws Exception {
    return reconciler.cleanup(job, null);
  }

  /** Reconciles until the job reaches the phase (at most a few dozen times); the last reconcile's answer, if any. */
  UpdateControl<TrainingJob> reconcileUntil(TrainingJob job, Phase phase) throws Exception {
    UpdateControl<TrainingJob> last = null;
    for (int i = 0; i < 50; i++) {
      if (job.getStatus() != null && job.getStatus().phase == phase) {
        return last;
      }
      last = reconcile(job);
    }
    throw new AssertionError(job.ref() + " never reached " + phase + "; it is " + job.getStatus().phase);
  }
}
