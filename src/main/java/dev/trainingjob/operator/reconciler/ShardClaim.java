package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.Shard;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.api.TrainingJobStatus;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A shard takes a job before it does anything for it: it writes its name to {@code status.shard}, checked against the
 * resourceVersion it read. A job relabelled for another shard meanwhile has a newer resourceVersion, so the write is refused
 * (409) and this shard does nothing; a job already taken says by whom. So two shards never both launch for one job, however
 * close a relabel comes to its creation, and the shard that holds a job's machine is the only one that ever acts on it.
 */
public final class ShardClaim {
  private static final Logger LOG = LoggerFactory.getLogger(ShardClaim.class);

  private final KubernetesClient client;
  private final String shard;

  /** {@code client} null: the claim is only recorded on the object (reconciler tests that hold jobs in memory). */
  public ShardClaim(KubernetesClient client, String shard) {
    this.client = client;
    this.shard = Shard.named(shard);
  }

  /** This shard's name. */
  public String shard() {
    return shard;
  }

  /** The shard that holds the job, when it is another one: this shard leaves it alone. */
  Optional<String> heldElsewhere(TrainingJob job) {
    return Shard.holder(job.getStatus()).filter(holder -> !holder.equals(shard));
  }

  /** Whether the job is taken already (by any shard). */
  static boolean taken(TrainingJob job) {
    return Shard.holder(job.getStatus()).isPresent();
  }

  /**
   * Takes a job no shard has taken: true once {@code status.shard} names this shard in the API (and on {@code job}, with the
   * resourceVersion written); false when the job changed since it was read, and must be looked at again as it is now.
   */
  boolean take(TrainingJob job) {
    if (job.getStatus() == null) {
      job.setStatus(new TrainingJobStatus());
    }
    if (client == null) {
      job.getStatus().shard = shard;
      return true;
    }
    // the status alone, with the resourceVersion read: the API server then refuses it if anything changed meanwhile
    TrainingJob claim = new TrainingJob();
    claim.setMetadata(new ObjectMetaBuilder().withName(job.getMetadata().getName()).withNamespace(job.getMetadata().getNamespace())
        .withResourceVersion(job.getMetadata().getResourceVersion()).build());
    TrainingJobStatus status = client.getKubernetesSerialization().clone(job.getStatus());
    status.shard = shard;
    claim.setStatus(status);
    try {
      TrainingJob written = client.resource(claim).updateStatus();
      if (!Shard.isDefault(shard) && (written.getStatus() == null || !shard.equals(written.getStatus().shard))) {
        // an API server with a TrainingJob CRD from before shards prunes the field: the job would look like the default
        // shard's on the next look, and this shard would leave its own job alone
        throw new IllegalStateException("the TrainingJob CRD in the cluster has no status.shard, so shard " + shard + " cannot "
            + "take jobs: apply the CRDs of this version (kubectl apply -f crds/)");
      }
      job.getStatus().shard = shard;
      job.getMetadata().setResourceVersion(written.getMetadata().getResourceVersion());
      LOG.info("{}: taken by shard {}", job.ref(), shard);
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409 || e.getCode() == 404) {
        LOG.debug("{}: changed before shard {} could take it ({}); looking again", job.ref(), shard, e.getCode());
        return false;
      }
      throw e;
    }
  }
}
