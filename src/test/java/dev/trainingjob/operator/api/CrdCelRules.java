package dev.trainingjob.operator.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.extensions.CelExtensions;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code x-kubernetes-validations} of a committed CRD, compiled with the CEL library and
 * evaluated the way an API server does: each rule on every value at its place in the object, with
 * {@code self} that value (absent and null fields are not {@code has()}). The embedded API of the
 * demo evaluates no CEL, so this is where the rules are tested.
 */
final class CrdCelRules {
  /** CEL as Kubernetes has it, as far as these rules need: the standard macros (has, all, exists, exists_one, filter) and the strings extension. */
  private static final CelCompiler COMPILER = CelCompilerFactory.standardCelCompilerBuilder()
      .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
      .addLibraries(CelExtensions.strings())
      .addVar("self", SimpleType.DYN)
      .build();
  private static final CelRuntime RUNTIME = CelRuntimeFactory.standardCelRuntimeBuilder()
      .addLibraries(CelExtensions.strings())
      .build();

  /**
   * One rule where the CRD has it.
   *
   * @param path where self is: spec.access; [] for every item of a list, {} for every value of a map
   * @param schema the schema of self (its bounds, for the cost checks)
   */
  record Rule(String crd, String path, String rule, String message, JsonNode schema, CelRuntime.Program program) {
    @Override
    public String toString() {
      return path + ": " + rule;
    }
  }

  /** What one rule said about one value. */
  enum Outcome { PASS, FAIL, ERROR }

  private CrdCelRules() {}

  static List<Rule> load(Path crd) throws Exception {
    JsonNode schema = CrdTest.YAML.readTree(crd.toFile()).at("/spec/versions/0/schema/openAPIV3Schema");
    List<Rule> rules = new ArrayList<>();
    collect(crd.getFileName().toString(), schema, "", rules);
    return rules;
  }

  private static void collect(String crd, JsonNode schema, String path, List<Rule> rules) throws Exception {
    for (JsonNode v : schema.path("x-kubernetes-validations")) {
      String rule = v.path("rule").asText();
      CelAbstractSyntaxTree ast = COMPILER.compile(rule).getAst();
      rules.add(new Rule(crd, path, rule, v.path("message").asText(), schema, RUNTIME.createProgram(ast)));
    }
    var fields = schema.path("properties").fields();
    while (fields.hasNext()) {
      var e = fields.next();
      collect(crd, e.getValue(), path.isEmpty() ? e.getKey() : path + "." + e.getKey(), rules);
    }
    if (schema.has("items")) {
      collect(crd, schema.get("items"), path + "[]", rules);
    }
    if (schema.path("additionalProperties").isObject()) {
      collect(crd, schema.get("additionalProperties"), path + "{}", rules);
    }
  }

  /** The rule on every value at its path in {@code doc}; empty when there is none (an absent field is not validated). */
  static List<Outcome> evaluate(Rule rule, JsonNode doc) {
    List<Outcome> out = new ArrayList<>();
    for (JsonNode self : at(doc, rule.path())) {
      out.add(evaluate(rule, toCel(self)));
    }
    return out;
  }

  static Outcome evaluate(Rule rule, Object self) {
    try {
      Object result = rule.program().eval(Map.of("self", self));
      return Boolean.TRUE.equals(result) ? Outcome.PASS : Outcome.FAIL;
    } catch (Exception e) {
      // an API server refuses the object when a rule cannot be evaluated on it
      return Outcome.ERROR;
    }
  }

  /** The values at a path such as spec.env[] or spec.script.inline{}. */
  private static List<JsonNode> at(JsonNode doc, String path) {
    List<JsonNode> here = List.of(doc);
    if (path.isEmpty()) {
      return here;
    }
    for (String step : path.split("\\.")) {
      String name = step.replaceAll("(\\[]|\\{})+$", "");
      List<JsonNode> next = new ArrayList<>();
      for (JsonNode node : here) {
        JsonNode child = node.path(name);
        if (!child.isMissingNode() && !child.isNull()) {
          next.add(child);
        }
      }
      for (String each : step.substring(name.length()).split("(?<=[]}])")) {
        if (each.isEmpty()) {
          continue;
        }
        List<JsonNode> elements = new ArrayList<>();
        next.forEach(n -> n.forEach(elements::add));
        next = elements;
      }
      here = next;
    }
    return here;
  }

  /** JSON as CEL sees it: maps, lists, int (Long), double, string, bool; null fields left out, as the API server drops them. */
  static Object toCel(JsonNode node) {
    if (node.isObject()) {
      Map<String, Object> map = new LinkedHashMap<>();
      node.fields().forEachRemaining(e -> {
        if (!e.getValue().isNull()) {
          map.put(e.getKey(), toCel(e.getValue()));
        }
      });
      return map;
    }
    if (node.isArray()) {
      List<Object> list = new ArrayList<>();
      node.forEach(n -> list.add(toCel(n)));
      return list;
    }
    if (node.isIntegralNumber()) {
      return node.asLong();
    }
    if (node.isNumber()) {
      return node.asDouble();
    }
    if (node.isBoolean()) {
      return node.asBoolean();
    }
    return node.asText();
  }
}
