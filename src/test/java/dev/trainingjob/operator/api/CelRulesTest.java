package dev.trainingjob.operator.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.trainingjob.operator.api.CrdCelRules.Outcome;
import dev.trainingjob.operator.api.CrdCelRules.Rule;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The CRD's cross-field rules (x-kubernetes-validations), read from the committed CRDs and evaluated
 * with the CEL library against the corpus: a real API server refuses at kubectl apply what they
 * refuse, and the embedded API of the demo evaluates no CEL, so the operator's own validation must
 * refuse the same objects.
 */
class CelRulesTest {
  private static List<Rule> rules;
  private static Map<Path, JsonNode> valid;
  private static Map<Path, JsonNode> invalid;

  @BeforeAll
  static void load() throws Exception {
    rules = new ArrayList<>(CrdCelRules.load(CrdTest.COMMITTED));
    rules.addAll(CrdCelRules.load(CrdTest.BUDGET_COMMITTED));
    valid = read(CrdSchemaCorpusTest.valid().toList());
    invalid = read(CrdSchemaCorpusTest.invalid().toList());
  }

  private static Map<Path, JsonNode> read(List<Path> files) throws Exception {
    Map<Path, JsonNode> docs = new LinkedHashMap<>();
    for (Path f : files) {
      docs.put(f, CrdTest.YAML.readTree(f.toFile()));
    }
    return docs;
  }

  /** The rules of the CRD a document is an object of. */
  private static List<Rule> rulesFor(JsonNode doc) {
    String crd = "TrainingBudget".equals(doc.path("kind").asText()) ? CrdTest.BUDGET_COMMITTED.getFileName().toString()
        : CrdTest.COMMITTED.getFileName().toString();
    return rules.stream().filter(r -> r.crd().equals(crd)).toList();
  }

  @Test
  void theCrdCarriesTheCrossFieldRulesWhereTheyBelong() {
    assertThat(rules).extracting(Rule::path).containsExactlyInAnyOrder("spec.access", "spec.access", "spec.access",
        "spec.compute", "spec.env", "spec.env", "spec.env", "spec.python", "spec.script", "spec.script", "spec.script.git",
        "spec.script.git", "spec.script.git");
    assertThat(rules).allSatisfy(r -> assertThat(r.message()).as(r.toString()).startsWith(r.path().replace("[]", "")));
  }

  @Test
  void everyValidObjectPassesEveryRule() {
    List<String> refused = new ArrayList<>();
    valid.forEach((file, doc) -> rulesFor(doc).forEach(rule -> {
      List<Outcome> outcomes = CrdCelRules.evaluate(rule, doc);
      if (outcomes.stream().anyMatch(o -> o != Outcome.PASS)) {
        refused.add(file.getFileName() + " " + outcomes + " by " + rule);
      }
    }));
    assertThat(refused).isEmpty();
  }

  /** So that a new rule without corpus cases fails the build. */
  @Test
  void everyRuleHasACorpusObjectThatPassesItAndAnInvalidOneThatFailsIt() {
    List<String> untested = new ArrayList<>();
    for (Rule rule : rules) {
      boolean passes = valid.values().stream().anyMatch(doc -> CrdCelRules.evaluate(rule, doc).contains(Outcome.PASS));
      boolean fails = invalid.values().stream().anyMatch(doc -> CrdCelRules.evaluate(rule, doc).contains(Outcome.FAIL));
      if (!passes) {
        untested.add("no valid object passes (none has " + rule.path() + "): " + rule);
      }
      if (!fails) {
        untested.add("no invalid object fails (add one under crd-corpus/invalid/, named after the rule): " + rule);
      }
    }
    assertThat(untested).isEmpty();
  }

  /** The demo's embedded API has no CEL: the operator refuses the same objects, naming a field the rule is about. */
  @Test
  void theOperatorRefusesWhatTheRulesRefuse() {
    List<String> accepted = new ArrayList<>();
    int checked = 0;
    for (var e : invalid.entrySet()) {
      JsonNode doc = e.getValue();
      for (Rule rule : rulesFor(doc)) {
        if (CrdCelRules.evaluate(rule, doc).stream().allMatch(o -> o == Outcome.PASS)) {
          continue;
        }
        checked++;
        TrainingJob job = io.fabric8.kubernetes.client.utils.Serialization.unmarshal(doc.toString(), TrainingJob.class);
        List<SpecValidator.Violation> violations = SpecValidator.validate(job.getSpec());
        if (violations.stream().noneMatch(v -> v.field().startsWith(rule.path()))) {
          accepted.add(e.getKey().getFileName() + " fails " + rule + " but the operator says " + violations);
        }
      }
    }
    assertThat(checked).isGreaterThanOrEqualTo(rules.size());
    assertThat(accepted).isEmpty();
  }

  /** The CEL list of reserved names and the operator's are the same names. */
  @Test
  void theReservedNamesAreTheOperatorsOwnInBoth() {
    Rule reserved = rules.stream().filter(r -> r.rule().equals(CelRules.ENV_NOT_RESERVED)).findFirst().orElseThrow();
    for (String name : SpecValidator.RESERVED_ENV) {
      assertThat(CrdCelRules.evaluate(reserved, List.of(Map.of("name", name, "value", "x")))).as(name).isEqualTo(Outcome.FAIL);
    }
    Matcher quoted = Pattern.compile("'([A-Z_]+)'").matcher(CelRules.RESERVED_ENV_LIST);
    List<String> inCel = new ArrayList<>();
    while (quoted.find()) {
      inCel.add(quoted.group(1));
    }
    assertThat(inCel).containsExactlyInAnyOrderElementsOf(SpecValidator.RESERVED_ENV);
    assertThat(CrdCelRules.evaluate(reserved, List.of(Map.of("name", "TRAININGJOB_MINE", "value", "x")))).isEqualTo(Outcome.PASS);
  }

  /**
   * A real API server refuses a CRD whose rules may cost too much: a list a rule iterates needs a
   * maxItems, and a string a rule runs a regular expression on a maxLength.
   */
  @Test
  void whatARuleIteratesOrMatchesIsBounded() {
    Pattern iterated = Pattern.compile("self((?:\\.\\w+)*)\\.(all|exists|exists_one|filter|map)\\(");
    Pattern matched = Pattern.compile("self((?:\\.\\w+)*)\\.matches\\(");
    List<String> unbounded = new ArrayList<>();
    for (Rule rule : rules) {
      for (var check : List.of(Map.entry(iterated, "maxItems"), Map.entry(matched, "maxLength"))) {
        Matcher m = check.getKey().matcher(rule.rule());
        while (m.find()) {
          JsonNode target = rule.schema();
          for (String field : m.group(1).split("\\.")) {
            if (!field.isEmpty()) {
              target = target.path("properties").path(field);
            }
          }
          if (!target.has(check.getValue())) {
            unbounded.add(rule.path() + m.group(1) + " has no " + check.getValue() + " for " + rule);
          }
        }
      }
    }
    assertThat(unbounded).isEmpty();
    // the env rules compare names pairwise: those are bounded too
    JsonNode env = rules.stream().filter(r -> r.path().equals("spec.env")).findFirst().orElseThrow().schema();
    assertThat(env.at("/items/properties/name/maxLength").asInt()).isEqualTo(CelRules.MAX_ENV_NAME);
  }
}
