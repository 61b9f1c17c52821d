package dev.trainingjob.operator.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The order of kubectl get's columns. The Fabric8 generator sorts printer columns by JSON path
 * (Age would come first); the CRD in crds/ is the generated one with its columns in this order.
 */
public final class PrinterColumns {
  private PrinterColumns() {}

  /** Name order; -o wide adds the priority-1 columns (Projected, Address, Message) after these. */
  public static final List<String> ORDER = List.of("Phase", "Progress", "ETA", "Type", "Cost", "Age", "Projected", "Address", "Message");

  /** A copy of a CRD document with every version's printer columns in {@link #ORDER}. */
  public static JsonNode reorder(JsonNode crd) {
    JsonNode copy = crd.deepCopy();
    for (JsonNode version : copy.at("/spec/versions")) {
      JsonNode columns = version.get("additionalPrinterColumns");
      if (columns instanceof ArrayNode array) {
        List<JsonNode> sorted = new ArrayList<>();
        array.forEach(sorted::add);
        sorted.sort(Comparator.comparingInt(c -> {
          int i = ORDER.indexOf(c.path("name").asText());
          return i < 0 ? ORDER.size() : i;
        }));
        ((ObjectNode) version).set("additionalPrinterColumns", array.removeAll().addAll(sorted));
      }
    }
    return copy;
  }
}
