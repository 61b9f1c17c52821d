package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.TrainingJob;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.time.Duration;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A reconcile's status goes to the API with the resourceVersion the job was read at. JOSDK's own status patch (without
 * server-side apply) carries none, so a decision made on a stale copy wins: a job the cache still showed Running, after it had
 * Succeeded and been released, was written Failed InstanceLost over its real end. With the version checked, the API refuses
 * such a write (409) and the job is reconciled again as it is now; the steps are made to be run again (a lost status write
 * is always possible).
 */
final class LockedStatusWrite {
  private static final Logger LOG = LoggerFactory.getLogger(LockedStatusWrite.class);
  /** After a refused write: the newer version's own event usually comes first. */
  static final Duration AFTER_CONFLICT = Duration.ofSeconds(1);

  private LockedStatusWrite() {
  }

  /**
   * Carries out {@code decided}'s status write, if it has one, checked against the job's resourceVersion; returns what is
   * left for JOSDK to do (the reschedule). {@code context} null: the decision is returned as it is (reconciler tests that
   * hold jobs in memory).
   */
  static UpdateControl<TrainingJob> apply(UpdateControl<TrainingJob> decided, TrainingJob job, Context<TrainingJob> context) {
    return context == null ? decided : apply(decided, job, context.getClient(), cached(job, context));
  }

  /** As above, with the client to write with and what to tell the cache of the job as written. */
  static UpdateControl<TrainingJob> apply(UpdateControl<TrainingJob> decided, TrainingJob job, KubernetesClient client,
      Consumer<TrainingJob> cacheWritten) {
    if (!decided.isPatchStatus()) {
      return decided;
    }
    UpdateControl<TrainingJob> rest = UpdateControl.noUpdate();
    if (write(job, client, cacheWritten)) {
      decided.getScheduleDelay().ifPresent(rest::rescheduleAfter);
      return rest;
    }
    return rest.rescheduleAfter(AFTER_CONFLICT);
  }

  /** The job's status written now, if the job is as it was read; false when it changed (or went) meanwhile. */
  static boolean write(TrainingJob job, Context<TrainingJob> context) {
    return write(job, context.getClient(), cached(job, context));
  }

  /** What is written is what the next reconcile starts from, not the informer's older copy. */
  private static Consumer<TrainingJob> cached(TrainingJob job, Context<TrainingJob> context) {
    return written -> context.eventSourceRetriever().getControllerEventSource()
        .handleRecentResourceUpdate(ResourceID.fromResource(job), written, job);
  }

  private static boolean write(TrainingJob job, KubernetesClient client, Consumer<TrainingJob> cacheWritten) {
    // the status alone, with the version read: nothing else of the object is sent back
    TrainingJob toWrite = new TrainingJob();
    toWrite.setMetadata(new ObjectMetaBuilder().withName(job.getMetadata().getName())
        .withNamespace(job.getMetadata().getNamespace()).withResourceVersion(job.getMetadata().getResourceVersion()).build());
    toWrite.setStatus(job.getStatus());
    try {
      cacheWritten.accept(client.resource(toWrite).updateStatus());
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        LOG.info("{}: changed since it was read (resourceVersion {}); its status was not written, and it is looked at again",
            job.ref(), job.getMetadata().getResourceVersion());
        return false;
      }
      if (e.getCode() == 404) {
        return false; // deleted meanwhile: its cleanup comes with the deletion
      }
      throw e;
    }
  }
}
