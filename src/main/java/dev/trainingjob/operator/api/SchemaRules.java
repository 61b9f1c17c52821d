package dev.trainingjob.operator.api;

import io.fabric8.crdv2.generator.v1.SchemaCustomizer;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/**
 * Schema rules the Fabric8 generator has no annotation for, applied while it generates the CRD.
 * (The generator runs class-level customizers only for the resource and its spec, not for classes
 * nested deeper, so rules about nested fields are set from here.)
 */
public final class SchemaRules {
  private SchemaRules() {}

  /** On TrainingJobSpec: spec.compute names at most one provider. */
  public static final class AtMostOneProvider implements SchemaCustomizer.Customizer {
    @Override
    public JSONSchemaProps apply(JSONSchemaProps spec, String input, KubernetesSerialization serialization) {
      spec.getProperties().get("compute").setMaxProperties(1L);
      return spec;
    }
  }

  /** On TrainingJob: descriptions for spec and status, which are inherited fields with no annotation of ours. */
  public static final class RootDescriptions implements SchemaCustomizer.Customizer {
    @Override
    public JSONSchemaProps apply(JSONSchemaProps root, String input, KubernetesSerialization serialization) {
      root.getProperties().get("spec").setDescription("What to run, where, and what to keep: written by the user.");
      root.getProperties().get("status").setDescription("What the operator observed: phase, machine, progress, "
          + "log tail and why. Written by the operator only.");
      return root;
    }
  }

  /** On TrainingBudget: descriptions for spec and status. */
  public static final class BudgetRootDescriptions implements SchemaCustomizer.Customizer {
    @Override
    public JSONSchemaProps apply(JSONSchemaProps root, String input, KubernetesSerialization serialization) {
      root.getProperties().get("spec").setDescription("What the namespace's TrainingJobs may cost: written by the user.");
      root.getProperties().get("status").setDescription("The ledger: what was spent this period, what admitted jobs reserved, "
          + "and what remains. Written by the operator only.");
      return root;
    }
  }
}
