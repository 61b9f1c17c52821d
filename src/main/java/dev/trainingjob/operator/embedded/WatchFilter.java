package dev.trainingjob.operator.embedded;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.UnaryOperator;

/**
 * Which of the CRUD dispatcher's watch events a kubectl watch gets, and in what form.
 *
 * <ul>
 *   <li>From {@code resourceVersion}: the dispatcher opens every watch by sending each matching object as ADDED;
 *       kubectl has just listed those, at the version it watches from, so an ADDED object no newer than it is left out
 *       (a real API server sends only what changed after it). Without a version, or with "0", all of them go, as a real
 *       API server's synthetic ADDED events do.</li>
 *   <li>The field selector, which the dispatcher's own matching does not know (see {@link FieldSelector}).</li>
 *   <li>As a Table, when the client asked for one ({@code kubectl get -w}): each event's object is a Table of one row.</li>
 * </ul>
 */
record WatchFilter(long since, FieldSelector selector, UnaryOperator<JsonNode> present) implements UnaryOperator<ObjectNode> {

  /** The version a watch starts after; 0 for "from the start" (absent, "0", or not a number the dispatcher wrote). */
  static long since(String resourceVersion) {
    try {
      return resourceVersion == null ? 0 : Long.parseLong(resourceVersion);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  @Override
  public ObjectNode apply(ObjectNode event) {
    JsonNode object = event.path("object");
    long version = since(object.path("metadata").path("resourceVersion").asText(null));
    String type = event.path("type").asText();
    if ("ADDED".equals(type) && version > 0 && version <= since) {
      return null;
    }
    if (WatchableCrud.RECENTLY_DELETED.equals(type) && (since == 0 || version <= since)) {
      return null; // a deletion the watcher's list already knew of (or, watching from no version, never asked about)
    }
    if (!selector.matches(object)) {
      return null;
    }
    ObjectNode shaped = event.deepCopy();
    if (WatchableCrud.RECENTLY_DELETED.equals(type)) {
      shaped.put("type", "DELETED");
    }
    shaped.set("object", present.apply(object));
    return shaped;
  }
}
