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

/**
 * What the TrainingJobs of one namespace may cost: each job's worst case is reserved here before anything is launched for it,
 * and its actual cost replaces the reservation once it ended. A job waits in Pending while any budget of its namespace has no
 * room for it.
 */
@SchemaCustomizer(value = SchemaRules.BudgetRootDescriptions.class, input = "")
@Group(TrainingJob.GROUP)
@Version(TrainingJob.VERSION)
@Kind("TrainingBudget")
@Plural(TrainingBudget.PLURAL)
@ShortNames("tjb")
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class TrainingBudget extends CustomResource<TrainingBudgetSpec, TrainingBudgetStatus> implements Namespaced {
  public static final String PLURAL = "trainingbudgets";

  /** Never throws: an unreadable budget would stop the informer, and admission in every namespace. */
  @Override
  @JsonDeserialize(using = TolerantReaders.BudgetSpec.class)
  public void setSpec(TrainingBudgetSpec spec) {
    super.setSpec(spec);
  }

  /** Never throws: fields a newer operator wrote are skipped. */
  @Override
  @JsonDeserialize(using = TolerantReaders.BudgetStatus.class)
  public void setStatus(TrainingBudgetStatus status) {
    super.setStatus(status);
  }

  /** "namespace/name", the way messages name a budget. */
  public String ref() {
    return getMetadata().getNamespace() + "/" + getMetadata().getName();
  }
}
