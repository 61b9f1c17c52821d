package dev.trainingjob.operator.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.support.EmbeddedApi;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The embedded API remembers where it last found each named object (a scan of every stored object per write made a
 * thousand jobs slow): what it answers is still the object as it is now, whatever happened to it since it was found.
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
}
