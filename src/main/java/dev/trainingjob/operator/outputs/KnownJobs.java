package dev.trainingjob.operator.outputs;

import dev.trainingjob.operator.api.TrainingJob;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.ArrayList;
import java.util.Collection;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The TrainingJobs that exist, as the API lists and watches them: the outputs endpoint serves a job's folder only while
 * its job exists. A watch, not a GET per download: the answer then never waits on the API server (whose service proxy
 * may be what is waiting on this answer, as in the demo's single-threaded embedded API), and a standby replica answers
 * as well as the leader. Generic objects, so a stored job this version cannot read is still known by its name.
 */
public final class KnownJobs implements AutoCloseable {
  static final ResourceDefinitionContext TRAINING_JOBS = new ResourceDefinitionContext.Builder()
      .withGroup(TrainingJob.GROUP).withVersion(TrainingJob.VERSION).withPlural("trainingjobs").withKind("TrainingJob")
      .withNamespaced(true).build();

  private final List<SharedIndexInformer<GenericKubernetesResource>> informers;

  private KnownJobs(List<SharedIndexInformer<GenericKubernetesResource>> informers) {
    this.informers = informers;
  }

  /** Watches the jobs in {@code namespaces} (empty: every namespace), as the operator's role allows it to. */
  public static KnownJobs watch(KubernetesClient client, Collection<String> namespaces) {
    var jobs = client.genericKubernetesResources(TRAINING_JOBS);
    List<SharedIndexInformer<GenericKubernetesResource>> informers = new ArrayList<>();
    if (namespaces.isEmpty()) {
      informers.add(jobs.inAnyNamespace().runnableInformer(0));
    } else {
      namespaces.forEach(ns -> informers.add(jobs.inNamespace(ns).runnableInformer(0)));
    }
    // started without waiting for the first list: the operator must not fail to start because this one is slow
    informers.forEach(SharedIndexInformer::start);
    return new KnownJobs(informers);
  }

  /** Whether namespace/name exists; empty while the first list has not come back. */
  public Optional<Boolean> exists(String namespace, String name) {
    if (!informers.stream().allMatch(SharedIndexInformer::hasSynced)) {
      return Optional.empty();
    }
    String key = namespace + "/" + name;
    return Optional.of(informers.stream().anyMatch(i -> i.getStore().getByKey(key) != null));
  }

  /**
   * When namespace/name was created (metadata.creationTimestamp, whole seconds); empty when it is not known or has none.
   * A job deleted and made again under its name is another object with a later time.
   */
  public Optional<Instant> created(String namespace, String name) {
    String key = namespace + "/" + name;
    return informers.stream().map(i -> i.getStore().getByKey(key)).filter(Objects::nonNull).findFirst()
        .map(job -> job.getMetadata().getCreationTimestamp()).filter(t -> t != null && !t.isBlank()).map(Instant::parse);
  }

  @Override
  public void close() {
    informers.forEach(SharedIndexInformer::close);
  }
}
