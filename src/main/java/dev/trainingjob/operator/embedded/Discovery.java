package dev.trainingjob.operator.embedded;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.trainingjob.operator.api.TrainingBudget;
import dev.trainingjob.operator.api.TrainingJob;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the real kubectl needs beyond CRUD: the discovery documents (/version, /api, /apis and the
 * resource lists), the OpenAPI v3 documents of our group ({@link OpenApi}) and, for TrainingJobs and TrainingBudgets,
 * the server-side Table built from the CRD's printer columns, as a real API server builds it.
 */
final class Discovery {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String RULES_REVIEW = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews";
  private static final String GROUP_VERSION = TrainingJob.GROUP + "/" + TrainingJob.VERSION;
  /** A request for our resources (a list, or one by name), with the plural in group 1. */
  private static final Pattern OURS = Pattern.compile("^/apis/" + Pattern.quote(GROUP_VERSION)
      + "/(?:namespaces/[^/]+/)?(" + "trainingjobs" + "|" + TrainingBudget.PLURAL + ")(?:/[^/]+)?$");
  /** The printer columns of each of our resources, by plural. */
  private final Map<String, List<CustomResourceColumnDefinition>> columns;
  private final OpenApi openApi = new OpenApi();

  Discovery() {
    this.columns = Map.of("trainingjobs", Crds.version("trainingjobs").getAdditionalPrinterColumns(),
        TrainingBudget.PLURAL, Crds.version(TrainingBudget.PLURAL).getAdditionalPrinterColumns());
  }

  /** The answer to a discovery request, or null when the request is for a resource. */
  MockResponse answer(RecordedRequest request) {
    String path = request.getPath().replaceFirst("\\?.*$", "");
    if ("POST".equals(request.getMethod()) && path.equals(RULES_REVIEW)) {
      // an API without authorization allows everything: what JOSDK asks before it runs a leader election
      return json(201, """
          {"kind":"SelfSubjectRulesReview","apiVersion":"authorization.k8s.io/v1","metadata":{},"spec":{},
           "status":{"resourceRules":[{"verbs":["*"],"apiGroups":["*"],"resources":["*"]}],"nonResourceRules":[],"incomplete":false}}""");
    }
    if (!"GET".equals(request.getMethod())) {
      return null;
    }
    return switch (path) {
      case "/version" -> json(200, """
          {"major":"1","minor":"31","gitVersion":"v1.31.0-trainingjob-embedded","platform":"linux/amd64"}""");
      case "/api" -> json(200, """
          {"kind":"APIVersions","versions":["v1"]}""");
      case "/apis" -> json(200, """
          {"kind":"APIGroupList","apiVersion":"v1","groups":[
            {"name":"%1$s","versions":[{"groupVersion":"%2$s","version":"%3$s"}],
             "preferredVersion":{"groupVersion":"%2$s","version":"%3$s"}},
            {"name":"coordination.k8s.io","versions":[{"groupVersion":"coordination.k8s.io/v1","version":"v1"}],
             "preferredVersion":{"groupVersion":"coordination.k8s.io/v1","version":"v1"}}]}"""
          .formatted(TrainingJob.GROUP, GROUP_VERSION, TrainingJob.VERSION));
      case "/api/v1" -> json(200, """
          {"kind":"APIResourceList","groupVersion":"v1","resources":[
            %s,%s,%s,%s,%s]}""".formatted(
              resource("namespaces", "Namespace", false, "ns"),
              resource("configmaps", "ConfigMap", true, "cm"),
              resource("secrets", "Secret", true, null),
              resource("events", "Event", true, "ev"),
              resource("pods", "Pod", true, "po")));
      case "/apis/coordination.k8s.io/v1" -> json(200, """
          {"kind":"APIResourceList","groupVersion":"coordination.k8s.io/v1","resources":[%s]}"""
          .formatted(resource("leases", "Lease", true, null)));
      case "/apis/" + GROUP_VERSION -> json(200, """
          {"kind":"APIResourceList","groupVersion":"%s","resources":[%s,
            {"name":"trainingjobs/status","singularName":"","namespaced":true,"kind":"TrainingJob","verbs":["get","patch","update"]},
            %s,
            {"name":"trainingbudgets/status","singularName":"","namespaced":true,"kind":"TrainingBudget","verbs":["get","patch","update"]}]}"""
          .formatted(GROUP_VERSION, resource("trainingjobs", "TrainingJob", true, "tj"),
              resource(TrainingBudget.PLURAL, "TrainingBudget", true, "tjb")));
      default -> path.startsWith("/openapi/") ? openApi(path) : null;
    };
  }

  /** An OpenAPI document: v3 for our group; a 404 for the rest (v2 included: see {@link OpenApi}). */
  private MockResponse openApi(String path) {
    String document = openApi.answer(path);
    return document == null ? ApiStatus.of(404, "NotFound", "the server could not find the requested resource") : json(200, document);
  }

  private static String resource(String plural, String kind, boolean namespaced, String shortName) {
    return """
        {"name":"%s","singularName":"%s","namespaced":%s,"kind":"%s",
         "verbs":["create","delete","deletecollection","get","list","patch","update","watch"]%s}"""
        .formatted(plural, kind.toLowerCase(), namespaced, kind,
            shortName == null ? "" : ",\"shortNames\":[\"" + shortName + "\"]");
  }

  /** Turns a TrainingJob or TrainingJobList into a meta.k8s.io/v1 Table when kubectl asks for one. */
  MockResponse asTableIfAsked(RecordedRequest request, MockResponse response) {
    String plural = tablePlural(request);
    if (plural == null || response.code() != 200) {
      return response;
    }
    try {
      return json(200, JSON.writeValueAsString(table(plural, JSON.readTree(response.getBody().readUtf8()))));
    } catch (java.io.IOException e) {
      return response;
    }
  }

  /** The plural of the resource whose Table the request asks for; null when it asks for none, or for a resource without columns. */
  String tablePlural(RecordedRequest request) {
    String accept = request.getHeader("Accept");
    Matcher ours = OURS.matcher(request.getPath().replaceFirst("\\?.*$", ""));
    return accept != null && accept.contains("as=Table") && ours.matches() ? ours.group(1) : null;
  }

  /** The Table of one object or a list of them, as the API server builds it from the CRD's printer columns. */
  ObjectNode table(String plural, JsonNode body) {
    List<CustomResourceColumnDefinition> columns = this.columns.get(plural);
    ObjectNode table = JSON.createObjectNode();
    table.put("kind", "Table");
    table.put("apiVersion", "meta.k8s.io/v1");
    table.set("metadata", body.path("metadata").isObject() && body.has("items") ? body.get("metadata") : JSON.createObjectNode());
    ArrayNode defs = table.putArray("columnDefinitions");
    defs.addObject().put("name", "Name").put("type", "string").put("format", "name").put("priority", 0)
        .put("description", "Name must be unique within a namespace.");
    for (CustomResourceColumnDefinition c : columns) {
      defs.addObject().put("name", c.getName()).put("type", c.getType()).put("format", c.getFormat() == null ? "" : c.getFormat())
          .put("priority", c.getPriority() == null ? 0 : c.getPriority())
          .put("description", c.getDescription() == null ? "" : c.getDescription());
    }
    ArrayNode rows = table.putArray("rows");
    if (body.has("items")) {
      body.get("items").forEach(item -> row(rows, item, columns));
    } else {
      row(rows, body, columns);
    }
    return table;
  }

  private static void row(ArrayNode rows, JsonNode item, List<CustomResourceColumnDefinition> columns) {
    ObjectNode row = rows.addObject();
    ArrayNode cells = row.putArray("cells");
    cells.add(item.path("metadata").path("name").asText());
    for (CustomResourceColumnDefinition c : columns) {
      JsonNode value = at(item, c.getJsonPath());
      if (value == null || value.isMissingNode() || value.isNull()) {
        cells.addNull();
      } else if ("date".equals(c.getType())) {
        cells.add(age(value.asText()));
      } else {
        cells.add(value);
      }
    }
    ObjectNode partial = row.putObject("object");
    partial.put("kind", "PartialObjectMetadata");
    partial.put("apiVersion", "meta.k8s.io/v1");
    partial.set("metadata", item.path("metadata"));
  }

  /** Follows a simple path such as .status.progress.summary. */
  private static JsonNode at(JsonNode node, String path) {
    JsonNode current = node;
    for (String part : path.replaceFirst("^\\.", "").split("\\.")) {
      current = current.path(part);
    }
    return current;
  }

  /** The way kubectl shows an age: 45s, 3m12s, 2h5m, 3d. */
  static String age(String timestamp) {
    try {
      Duration d = Duration.between(Instant.parse(timestamp), Instant.now());
      long s = Math.max(0, d.toSeconds());
      if (s < 120) {
        return s + "s";
      }
      if (s < 600) {
        return (s / 60) + "m" + (s % 60 == 0 ? "" : (s % 60) + "s");
      }
      if (s < 3 * 3600) {
        return (s / 3600 == 0 ? "" : (s / 3600) + "h") + ((s % 3600) / 60) + "m";
      }
      if (s < 48 * 3600) {
        return (s / 3600) + "h";
      }
      return (s / 86400) + "d";
    } catch (RuntimeException e) {
      return "<unknown>";
    }
  }

  private static MockResponse json(int code, String body) {
    return new MockResponse().setResponseCode(code).setHeader("Content-Type", "application/json").setBody(body);
  }
}
