package dev.trainingjob.operator.embedded;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;
import java.util.List;

/**
 * A field selector ({@code involvedObject.name=demo,type!=Normal}) applied to objects as JSON. The mock server matches only
 * metadata.name and metadata.namespace and finds nothing for any other field (so {@code kubectl describe} saw no Events);
 * this follows any dotted path, as the API server does for the fields it supports: {@code =} and {@code ==} are
 * equality, {@code !=} inequality, requirements joined by commas all hold, and a field the object lacks reads as "".
 */
record FieldSelector(List<Requirement> requirements) {
  record Requirement(List<String> path, String value, boolean equal) {
    boolean holds(JsonNode object) {
      JsonNode node = object;
      for (String part : path) {
        node = node.path(part);
      }
      String actual = node.isValueNode() ? node.asText() : "";
      return actual.equals(value) == equal;
    }
  }

  static final FieldSelector EVERYTHING = new FieldSelector(List.of());

  /** The selector a request's fieldSelector parameter names (already URL-decoded); null or blank selects everything. */
  static FieldSelector parse(String selector) {
    if (selector == null || selector.isBlank()) {
      return EVERYTHING;
    }
    // a backslash escapes a comma or an equals sign in a value, as in the API server's own parser
    return new FieldSelector(Arrays.stream(selector.split("(?<!\\\\),")).filter(s -> !s.isBlank())
        .map(FieldSelector::requirement).toList());
  }

  private static Requirement requirement(String text) {
    int eq = text.indexOf('=');
    if (eq < 1) {
      throw new IllegalArgumentException("invalid field selector requirement: " + text);
    }
    boolean equal = text.charAt(eq - 1) != '!';
    String key = text.substring(0, equal ? eq : eq - 1).trim();
    String value = text.substring(text.startsWith("==", eq) ? eq + 2 : eq + 1).trim().replaceAll("\\\\([,=\\\\])", "$1");
    return new Requirement(List.of(key.split("\\.")), value, equal);
  }

  boolean matches(JsonNode object) {
    return requirements.stream().allMatch(r -> r.holds(object));
  }
}
