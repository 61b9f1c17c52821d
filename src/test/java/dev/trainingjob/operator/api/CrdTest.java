package dev.trainingjob.operator.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The committed CRD is what the Fabric8 generator makes from the model, and it teaches the API. */
class CrdTest {
  static final Path COMMITTED = Path.of("crds/trainingjobs.trainingjob.dev-v1.yml");
  static final Path GENERATED = Path.of("target/classes/META-INF/fabric8/trainingjobs.trainingjob.dev-v1.yml");
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  static JsonNode schema() throws Exception {
    return YAML.readTree(GENERATED.toFile()).at("/spec/versions/0/schema/openAPIV3Schema");
  }

  /** Run with -Dcrd.write=true to rewrite crds/ from the model, and its copies in the chart and deploy/. */
  @Test
  void theCommittedCrdIsWhatTheBuildGeneratesWithColumnsInOrder() throws Exception {
    JsonNode expected = PrinterColumns.reorder(YAML.readTree(GENERATED.toFile()));
    if (Boolean.getBoolean("crd.write")) {
      Files.writeString(COMMITTED, YAML.writeValueAsString(expected));
      for (String copy : List.of("helm/trainingjob-operator/crds", "deploy/crd")) {
        Files.copy(COMMITTED, Path.of(copy).resolve(COMMITTED.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    }
    assertThat(YAML.readTree(COMMITTED.toFile()))
        .as("crds/ is stale: the model changed. Regenerate with: mvn -q test -Dtest=CrdTest -Dcrd.write=true")
        .isEqualTo(expected);
  }

  @Test
  void everyFieldHasADescriptionForKubectlExplain() throws Exception {
    List<String> undocumented = new ArrayList<>();
    walk(schema(), "", undocumented);
    assertThat(undocumented).isEmpty();
  }

  private static void walk(JsonNode node, String path, List<String> undocumented) {
    node.path("properties").fields().forEachRemaining(e -> {
      String at = path + "." + e.getKey();
      if (e.getValue().path("description").asText().isBlank()) {
        undocumented.add(at);
      }
      walk(e.getValue(), at, undocumented);
    });
    if (node.has("items")) {
      walk(node.get("items"), path + "[]", undocumented);
    }
  }

  @Test
  void theCrdNamesTheApiAsUsersWriteIt() throws Exception {
    JsonNode crd = YAML.readTree(GENERATED.toFile());
    assertThat(crd.at("/spec/group").asText()).isEqualTo("trainingjob.dev");
    assertThat(crd.at("/spec/names/plural").asText()).isEqualTo("trainingjobs");
    assertThat(crd.at("/spec/names/shortNames/0").asText()).isEqualTo("tj");
    assertThat(crd.at("/spec/scope").asText()).isEqualTo("Namespaced");
    JsonNode version = crd.at("/spec/versions/0");
    assertThat(version.at("/name").asText()).isEqualTo("v1alpha1");
    assertThat(version.at("/subresources/status").isObject()).isTrue();
    List<String> columns = new ArrayList<>();
    version.path("additionalPrinterColumns").forEach(c -> columns.add(c.path("name").asText() + "=" + c.path("jsonPath").asText()));
    assertThat(columns).contains("Phase=.status.phase", "Progress=.status.progress.summary",
        "Type=.status.instance.type", "Cost=.status.cost.summary", "Age=.metadata.creationTimestamp",
        "ETA=.status.progress.etaSummary", "Projected=.status.cost.projected");
    // and in crds/, the order kubectl shows
    List<String> committed = new ArrayList<>();
    YAML.readTree(COMMITTED.toFile()).at("/spec/versions/0/additionalPrinterColumns").forEach(c -> committed.add(c.path("name").asText()));
    assertThat(committed).containsExactly("Phase", "Progress", "ETA", "Type", "Cost", "Age", "Projected", "Address", "Message");
  }
}
