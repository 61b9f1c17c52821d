package dev.trainingjob.operator.embedded;

import com.fasterxml.jackson.databind.JsonNode;
import dev.trainingjob.operator.api.TrainingBudget;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/** The CRDs of crds/ (the jar carries them), by plural: what the embedded API knows of its custom resources. */
final class Crds {
  private static final Map<String, CustomResourceDefinition> BY_PLURAL = Map.of(
      "trainingjobs", load("/crds/trainingjobs.trainingjob.dev-v1.yml"),
      TrainingBudget.PLURAL, load("/crds/trainingbudgets.trainingjob.dev-v1.yml"));

  private Crds() {}

  private static CustomResourceDefinition load(String resource) {
    try (InputStream in = Crds.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("the CRD " + resource + " is not on the class path");
      }
      return Serialization.unmarshal(in, CustomResourceDefinition.class);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static Iterable<String> plurals() {
    return BY_PLURAL.keySet().stream().sorted().toList();
  }

  static String kind(String plural) {
    return BY_PLURAL.get(plural).getSpec().getNames().getKind();
  }

  /** The one served version (the CRDs have one). */
  static CustomResourceDefinitionVersion version(String plural) {
    return BY_PLURAL.get(plural).getSpec().getVersions().get(0);
  }

  /** The version's openAPIV3Schema, as JSON. */
  static JsonNode schema(String plural) {
    return Serialization.jsonMapper().valueToTree(version(plural).getSchema().getOpenAPIV3Schema());
  }
}
