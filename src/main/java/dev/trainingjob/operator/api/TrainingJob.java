package dev.trainingjob.operator.api;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crdv2.generator.v1.SchemaCustomizer;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** One training run: a Python script, where to run it, and what to keep when it ends. */
@SchemaCustomizer(value = SchemaRules.RootDescriptions.class, input = "")
@Group(TrainingJob.GROUP)
@Version(TrainingJob.VERSION)
@Kind("TrainingJob")
@Plural("trainingjobs")
@ShortNames("tj")
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class TrainingJob extends CustomResource<TrainingJobSpec, TrainingJobStatus> implements Namespaced {
  public static final String GROUP = "trainingjob.dev";
  public static final String VERSION = "v1alpha1";

  /** Never throws: an unreadable spec would stop the informer, and the operator, for every job. */
  @Override
  @JsonDeserialize(using = TolerantReaders.Spec.class)
  public void setSpec(TrainingJobSpec spec) {
    super.setSpec(spec);
  }

  /** Never throws: fields a newer operator wrote are skipped. */
  @Override
  @JsonDeserialize(using = TolerantReaders.Status.class)
  public void setStatus(TrainingJobStatus status) {
    super.setStatus(status);
  }

  /**
   * Where the job runs: spec.compute as admitted (kept in status), or the spec's before admission. A
   * provider reads this, never the live spec, so an edit cannot send a release to another machine.
   */
  public ComputeSpec admittedCompute() {
    if (getStatus() != null && getStatus().compute != null) {
      return getStatus().compute;
    }
    return getSpec() == null ? null : getSpec().compute;
  }

  /** "namespace/name", the way every log line and message names a job. */
  public String ref() {
    return getMetadata().getNamespace() + "/" + getMetadata().getName();
  }
}
