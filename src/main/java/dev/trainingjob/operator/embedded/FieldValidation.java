package dev.trainingjob.operator.embedded;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainingjob.operator.api.TrainingJob;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Server-side field validation of our custom resources, as a real API server does it for the {@code fieldValidation}
 * parameter kubectl sends (see {@link OpenApi} for why it sends it): a field the CRD's schema does not declare (a
 * misspelt one, say) is refused with {@code Strict}, kubectl's default, and passes with a warning with {@code Warn}.
 * That is all it checks: the rest of the schema (types, enums, ranges, the CEL rules) the embedded API does not enforce.
 */
final class FieldValidation {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** A write to one of our resources (or its status), with the plural in group 1. */
  private static final Pattern OURS = Pattern.compile("^/apis/" + Pattern.quote(TrainingJob.GROUP + "/" + TrainingJob.VERSION)
      + "/namespaces/[^/]+/([a-z]+)(?:/[^/]+(?:/status)?)?$");
  private static final java.util.Set<String> ROOT_FIELDS = java.util.Set.of("apiVersion", "kind", "metadata");
  private final Map<String, JsonNode> schemas = new HashMap<>();

  FieldValidation() {
    Crds.plurals().forEach(plural -> schemas.put(plural, Crds.schema(plural)));
  }

  /** The answer to a write: refused when Strict finds an undeclared field; else {@code write}'s, with a warning each when Warn does. */
  MockResponse apply(RecordedRequest request, Supplier<MockResponse> write) {
    String mode = ApiHttpServer.parameter(request.getPath(), "fieldValidation");
    List<String> unknown = "Strict".equals(mode) || "Warn".equals(mode) ? unknownFields(request) : List.of();
    if (unknown.isEmpty()) {
      return write.get();
    }
    List<String> problems = unknown.stream().map(field -> "unknown field \"" + field + "\"").toList();
    if ("Strict".equals(mode)) {
      String kind = Crds.kind(plural(request));
      return ApiStatus.of(400, "BadRequest", "%s in version \"%s\" cannot be handled as a %s: strict decoding error: %s"
          .formatted(kind, TrainingJob.VERSION, kind, String.join(", ", problems)));
    }
    MockResponse answer = write.get();
    problems.forEach(problem -> answer.addHeader("Warning", "299 - \"" + problem.replace("\"", "\\\"") + "\""));
    return answer;
  }

  private String plural(RecordedRequest request) {
    Matcher m = OURS.matcher(request.getPath().replaceFirst("\\?.*$", ""));
    return m.matches() && schemas.containsKey(m.group(1)) ? m.group(1) : null;
  }

  /** The fields the body sets that the schema does not declare, as the API server names them (spec.env[0].nmae). */
  private List<String> unknownFields(RecordedRequest request) {
    String plural = plural(request);
    String type = request.getHeader("Content-Type");
    // a JSON patch names paths rather than fields, and a server-side apply is YAML: neither is checked
    if (plural == null || type != null && (type.contains("json-patch") || type.contains("apply-patch"))) {
      return List.of();
    }
    try {
      List<String> found = new ArrayList<>();
      collect(schemas.get(plural), JSON.readTree(request.getBody().getBytes()), "", found);
      return found;
    } catch (IOException unreadable) {
      return List.of(); // the mock server answers what it cannot read
    }
  }

  private static void collect(JsonNode schema, JsonNode value, String path, List<String> found) {
    if (value == null || schema == null || schema.isMissingNode()) {
      return;
    }
    if (value.isObject()) {
      JsonNode properties = schema.path("properties");
      JsonNode additional = schema.path("additionalProperties");
      // an object whose schema lists no fields, or keeps unknown ones, takes any
      boolean open = schema.path("x-kubernetes-preserve-unknown-fields").asBoolean(false) || additional.asBoolean(false)
          || properties.isMissingNode() && additional.isMissingNode();
      value.fields().forEachRemaining(field -> {
        String at = path.isEmpty() ? field.getKey() : path + "." + field.getKey();
        if (path.isEmpty() && ROOT_FIELDS.contains(field.getKey())) {
          return; // every object has these, whatever its schema lists (ObjectMeta is not checked)
        } else if (properties.has(field.getKey())) {
          collect(properties.get(field.getKey()), field.getValue(), at, found);
        } else if (additional.isObject()) {
          collect(additional, field.getValue(), at, found);
        } else if (!open) {
          found.add(at);
        }
      });
    } else if (value.isArray()) {
      for (int i = 0; i < value.size(); i++) {
        collect(schema.path("items"), value.get(i), path + "[" + i + "]", found);
      }
    }
  }
}
