package dev.trainingjob.operator.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The generated OpenAPI schema, checked by a JSON-schema validator against a small corpus. */
class CrdSchemaCorpusTest {
  private static JsonSchema schema;
  private static JsonSchema budgetSchema;
  private static List<CrdCelRules.Rule> celRules;

  @BeforeAll
  static void load() throws Exception {
    // Kubernetes' structural schemas are a subset of draft 4 plus x-kubernetes-* keywords (ignored here)
    schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4).getSchema(CrdTest.schema());
    budgetSchema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4).getSchema(
        CrdTest.YAML.readTree(CrdTest.BUDGET_COMMITTED.toFile()).at("/spec/versions/0/schema/openAPIV3Schema"));
    celRules = CrdCelRules.load(CrdTest.COMMITTED);
  }

  static Stream<Path> invalid() throws IOException {
    return Files.list(Path.of("src/test/resources/crd-corpus/invalid")).sorted();
  }

  /** The corpus, and every example shipped in deploy/examples. */
  static Stream<Path> valid() throws IOException {
    return Stream.concat(Files.list(Path.of("src/test/resources/crd-corpus/valid")).sorted(),
        Files.list(Path.of("deploy/examples")).filter(p -> p.toString().endsWith(".yaml")).sorted());
  }

  /**
   * What a real API server refuses: the schema's errors, or a cross-field rule (x-kubernetes-validations, CEL) that
   * does not hold, which a JSON-schema validator does not evaluate; CelRulesTest checks those rules one by one.
   */
  @ParameterizedTest
  @MethodSource("invalid")
  void rejects(Path example) throws Exception {
    JsonNode doc = CrdTest.YAML.readTree(example.toFile());
    Set<ValidationMessage> errors = schema.validate(doc);
    List<String> refusedBy = new ArrayList<>();
    errors.forEach(e -> refusedBy.add("schema: " + e.getMessage()));
    for (CrdCelRules.Rule rule : celRules) {
      if (CrdCelRules.evaluate(rule, doc).stream().anyMatch(o -> o != CrdCelRules.Outcome.PASS)) {
        refusedBy.add("rule: " + rule.message());
      }
    }
    assertThat(refusedBy).as(example.getFileName() + " must be rejected").isNotEmpty();
  }

  @ParameterizedTest
  @MethodSource("valid")
  void accepts(Path example) throws Exception {
    JsonNode doc = CrdTest.YAML.readTree(example.toFile());
    if ("TrainingBudget".equals(doc.path("kind").asText())) {
      assertThat(budgetSchema.validate(doc)).as(example.getFileName().toString()).isEmpty();
      return;
    }
    assertThat(schema.validate(doc)).as(example.getFileName().toString()).isEmpty();
    // and the operator's own validation agrees
    TrainingJob job = io.fabric8.kubernetes.client.utils.Serialization.unmarshal(doc.toString(), TrainingJob.class);
    assertThat(SpecValidator.validate(job.getSpec())).as(example.getFileName().toString()).isEmpty();
  }
}
