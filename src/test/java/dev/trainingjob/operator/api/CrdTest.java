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
  static final Path BUDGET_COMMITTED = Path.of("crds/trainingbudgets.trainingjob.dev-v1.yml");
  static final Path BUDGET_GENERATED = Path.of("target/classes/META-INF/fabric8/trainingbudgets.trainingjob.dev-v1.yml");
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  static JsonNode schema() throws Exception {
    return YAML.readTree(GENERATED.toFile()).at("/spec/versions/0/schema/openAPIV3Schema");
  }

  /** Run with -Dcrd.write=true to rewrite crds/ from the model, and its copies in the chart and deploy/. */
  @Test
  void theCommittedCrdIsWhatTheBuildGeneratesWithColumnsInOrder() throws Exception {
    for (Path[] crd : List.of(new Path[] {COMMITTED, GENERATED}, new Path[] {BUDGET_COMMITTED, BUDGET_GENERATED})) {
      Path committed = crd[0];
      JsonNode expected = PrinterColumns.reorder(YAML.readTree(crd[1].toFile()));
      if (Boolean.getBoolean("crd.write")) {
        Files.writeString(committed, YAML.writeValueAsString(expected));
        for (String copy : List.of("helm/trainingjob-operator/crds", "deploy/crd")) {
          Files.copy(committed, Path.of(copy).resolve(committed.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
      }
      assertThat(YAML.readTree(committed.toFile()))
          .as(committed + " is stale: the model changed. Regenerate with: mvn -q test -Dtest=CrdTest -Dcrd.write=true")
          .isEqualTo(expected);
    }
  }

  @Test
  void everyFieldHasADescriptionForKubectlExplain() throws Exception {
    List<String> undocumented = new ArrayList<>();
    walk(schema(), "", undocumented);
    walk(YAML.readTree(BUDGET_GENERATED.toFile()).at("/spec/versions/0/schema/openAPIV3Schema"), "trainingbudget", undocumented);
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

  @Test
  void theBudgetCrdNamesItsApiAndShowsTheMoneyInOrder() throws Exception {
    JsonNode crd = YAML.readTree(BUDGET_COMMITTED.toFile());
    assertThat(crd.at("/spec/group").asText()).isEqualTo("trainingjob.dev");
    assertThat(crd.at("/spec/names/kind").asText()).isEqualTo("TrainingBudget");
    assertThat(crd.at("/spec/names/plural").asText()).isEqualTo("trainingbudgets");
    assertThat(crd.at("/spec/names/shortNames/0").asText()).isEqualTo("tjb");
    assertThat(crd.at("/spec/scope").asText()).isEqualTo("Namespaced");
    JsonNode version = crd.at("/spec/versions/0");
    assertThat(version.at("/name").asText()).isEqualTo("v1alpha1");
    assertThat(version.at("/subresources/status").isObject()).isTrue();
    JsonNode spec = version.at("/schema/openAPIV3Schema/properties/spec");
    assertThat(spec.at("/required")).extracting(JsonNode::asText).containsExactly("limitUSD");
    assertThat(spec.at("/properties/limitUSD/minimum").asDouble()).isZero();
    assertThat(spec.at("/properties/limitUSD/exclusiveMinimum").asBoolean()).isTrue();
    assertThat(spec.at("/properties/period/enum")).extracting(JsonNode::asText).containsExactly("Monthly", "Total");
    assertThat(spec.at("/properties/period/default").asText()).isEqualTo("Monthly");
    List<String> columns = new ArrayList<>();
    version.path("additionalPrinterColumns").forEach(c -> columns.add(c.path("name").asText() + "=" + c.path("jsonPath").asText()));
    assertThat(columns).containsExactly("Limit=.status.shown.limit", "Spent=.status.shown.spent",
        "Reserved=.status.shown.reserved", "Remaining=.status.shown.remaining", "Age=.metadata.creationTimestamp");
  }
}
