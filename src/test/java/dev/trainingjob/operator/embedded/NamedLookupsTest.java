package dev.trainingjob.operator.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.support.EmbeddedApi;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The embedded API finds a named object through an index of its store by name (a scan of every stored object per write
 * and per create made thousands of jobs slow): what it answers is still the object as it is now, whatever happened to it
 * since it was stored, and a name taken is still refused.
 */
class NamedLookupsTest {
  @RegisterExtension
  static final EmbeddedApi API = new EmbeddedApi();

  private static ConfigMap map(String namespace, String name, String label, String value) {
    return new ConfigMapBuilder().withNewMetadata().withNamespace(namespace).withName(name).withLabels(Map.of("v", label))
        .endMetadata().withData(Map.of("value", value)).build();
  }

  private static String value(String namespace, String name) {
    ConfigMap found = API.client().configMaps().inNamespace(namespace).withName(name).get();
    return found == null ? null : found.getData().get("value");
  }

  @Test
  void anObjectFoundOnceIsAnsweredAsItIsNowAfterEachChange() {
    API.client().resource(map("one", "cfg", "a", "first")).create();
    assertThat(value("one", "cfg")).isEqualTo("first");

    API.client().configMaps().inNamespace("one").withName("cfg").edit(c -> {
      c.getMetadata().getLabels().put("v", "b"); // filed anew under other attributes
      c.getData().put("value", "relabelled");
      return c;
    });
    assertThat(value("one", "cfg")).isEqualTo("relabelled");

    API.client().configMaps().inNamespace("one").withName("cfg").delete();
    assertThat(value("one", "cfg")).isNull();

    API.client().resource(map("one", "cfg", "a", "created again")).create();
    assertThat(value("one", "cfg")).isEqualTo("created again");
  }

  @Test
  void theSameNameInAnotherNamespaceIsAnotherObject() {
    API.client().resource(map("two", "shared", "a", "in two")).create();
    API.client().resource(map("three", "shared", "a", "in three")).create();
    assertThat(value("two", "shared")).isEqualTo("in two");
    assertThat(value("three", "shared")).isEqualTo("in three");
    API.client().configMaps().inNamespace("two").withName("shared").delete();
    assertThat(value("three", "shared")).isEqualTo("in three");
    assertThat(value("two", "shared")).isNull();
  }

  @Test
  void aNameTakenIsRefusedOnlyForTheSameKindInTheSameNamespace() {
    API.client().resource(map("four", "taken", "a", "first")).create();
    assertThat(org.assertj.core.api.Assertions.catchThrowableOfType(
        () -> API.client().resource(map("four", "taken", "a", "second")).create(),
        io.fabric8.kubernetes.client.KubernetesClientException.class).getCode()).isEqualTo(409);
    API.client().resource(new io.fabric8.kubernetes.api.model.SecretBuilder().withNewMetadata().withNamespace("four")
        .withName("taken").endMetadata().build()).create();
    API.client().resource(map("five", "taken", "a", "in five")).create();
    assertThat(value("four", "taken")).isEqualTo("first");
    assertThat(value("five", "taken")).isEqualTo("in five");
  }
}
