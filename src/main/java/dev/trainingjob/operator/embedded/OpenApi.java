package dev.trainingjob.operator.embedded;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.trainingjob.operator.api.TrainingJob;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The OpenAPI v3 documents of our API group (/openapi/v3 and /openapi/v3/apis/trainingjob.dev/v1alpha1), built from
 * the CRDs' schemas as a real API server publishes them.
 *
 * <p>What kubectl does with them: before {@code apply} (and create, replace, edit) it asks whether the server checks
 * fields itself, which it reads from the fieldValidation parameter of the kind's PATCH operation here. It does, so kubectl
 * sends {@code fieldValidation=Strict} and leaves the check to the server ({@link FieldValidation}) instead of fetching
 * /openapi/v2 (as protobuf, which this API does not serve) to validate on its own. {@code kubectl explain} reads the
 * schemas from here as well.
 */
final class OpenApi {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String GROUP_VERSION = TrainingJob.GROUP + "/" + TrainingJob.VERSION;
  private static final String DOCUMENT_PATH = "/openapi/v3/apis/" + GROUP_VERSION;
  private final String document = document();
  private final String root = root(document);

  /** The body for an /openapi/ path; null for one this API does not serve (v2 among them). */
  String answer(String path) {
    return switch (path) {
      case "/openapi/v3" -> root;
      case DOCUMENT_PATH -> document;
      default -> null;
    };
  }

  /** The list of group-version documents; the hash changes when the document does (kubectl caches by it). */
  private static String root(String document) {
    try {
      String hash = HexFormat.of().withUpperCase().formatHex(
          MessageDigest.getInstance("SHA-512").digest(document.getBytes(StandardCharsets.UTF_8)));
      ObjectNode root = JSON.createObjectNode();
      root.putObject("paths").putObject("apis/" + GROUP_VERSION).put("serverRelativeURL", DOCUMENT_PATH + "?hash=" + hash);
      return root.toString();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String document() {
    ObjectNode doc = JSON.createObjectNode().put("openapi", "3.0.0");
    doc.putObject("info").put("title", "Kubernetes").put("version", "v1.31.0");
    ObjectNode paths = doc.putObject("paths");
    ObjectNode schemas = doc.putObject("components").putObject("schemas");
    for (String plural : Crds.plurals()) {
      String kind = Crds.kind(plural);
      String schemaName = "dev.trainingjob." + TrainingJob.VERSION + "." + kind;
      ObjectNode schema = (ObjectNode) Crds.schema(plural);
      schema.putArray("x-kubernetes-group-version-kind").add(gvk(kind));
      schemas.set(schemaName, schema);
      String collection = "/apis/" + GROUP_VERSION + "/namespaces/{namespace}/" + plural;
      paths.putObject(collection).set("post", operation("create", kind, schemaName));
      ObjectNode item = paths.putObject(collection + "/{name}");
      item.set("put", operation("replace", kind, schemaName));
      item.set("patch", operation("patch", kind, schemaName));
    }
    return doc.toString();
  }

  private static ObjectNode gvk(String kind) {
    return JSON.createObjectNode().put("group", TrainingJob.GROUP).put("kind", kind).put("version", TrainingJob.VERSION);
  }

  /** A write operation on the kind, with the fieldValidation parameter that tells kubectl the server checks fields. */
  private static ObjectNode operation(String action, String kind, String schemaName) {
    ObjectNode op = JSON.createObjectNode().put("operationId", action + "Namespaced" + kind);
    op.putArray("parameters").addObject().put("name", "fieldValidation").put("in", "query")
        .put("description", "Strict: refuse a field the schema does not declare; Warn: accept it with a warning; Ignore: accept it.")
        .putObject("schema").put("type", "string");
    op.putObject("responses").putObject("200").put("description", "OK").putObject("content").putObject("application/json")
        .putObject("schema").put("$ref", "#/components/schemas/" + schemaName);
    op.put("x-kubernetes-action", action.equals("replace") ? "put" : action.equals("create") ? "post" : action);
    op.set("x-kubernetes-group-version-kind", gvk(kind));
    return op;
  }
}
