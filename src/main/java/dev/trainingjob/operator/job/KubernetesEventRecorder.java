package dev.trainingjob.operator.job;

import dev.trainingjob.operator.api.TrainingJob;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Writes core/v1 Events owned by nothing (the API server ages them out). */
public final class KubernetesEventRecorder implements EventRecorder {
  private static final Logger LOG = LoggerFactory.getLogger(KubernetesEventRecorder.class);
  static final String COMPONENT = "trainingjob-operator";
  private final KubernetesClient client;

  public KubernetesEventRecorder(KubernetesClient client) {
    this.client = client;
  }

  @Override
  public void normal(TrainingJob job, Reason reason, String message) {
    record(job, "Normal", reason, message);
  }

  @Override
  public void warning(TrainingJob job, Reason reason, String message) {
    record(job, "Warning", reason, message);
  }

  private void record(TrainingJob job, String type, Reason reason, String message) {
    write(client, job.ref(), reason, event(job, type, reason, message));
  }

  /**
   * The Event as of now: built on the caller's thread, so a recorder that writes later writes what the job was when it
   * was recorded (its resourceVersion, the time), not what the reconcile made of the object since.
   */
  static Event event(TrainingJob job, String type, Reason reason, String message) {
    String now = Instant.now().toString();
    var meta = job.getMetadata();
    return new EventBuilder()
        .withNewMetadata()
          .withName(meta.getName() + "." + UUID.randomUUID().toString().substring(0, 13).replace("-", ""))
          .withNamespace(meta.getNamespace())
        .endMetadata()
        .withInvolvedObject(new ObjectReferenceBuilder()
            .withApiVersion(job.getApiVersion()).withKind(job.getKind())
            .withName(meta.getName()).withNamespace(meta.getNamespace())
            .withUid(meta.getUid()).withResourceVersion(meta.getResourceVersion()).build())
        .withType(type).withReason(reason.name()).withMessage(message)
        .withFirstTimestamp(now).withLastTimestamp(now).withCount(1)
        .withNewSource().withComponent(COMPONENT).endSource()
        .withReportingComponent(COMPONENT)
        .build();
  }

  static void write(KubernetesClient client, String jobRef, Reason reason, Event event) {
    try {
      client.v1().events().inNamespace(event.getMetadata().getNamespace()).resource(event).create();
    } catch (RuntimeException e) {
      // an Event is a courtesy: failing to write one must not fail the reconcile
      LOG.warn("{}: could not record event {}: {}", jobRef, reason, e.getMessage());
    }
  }
}
