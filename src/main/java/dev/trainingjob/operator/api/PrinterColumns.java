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

  /** kubectl get trainingbudgets: the money first, then the age. */
  public static final List<String> BUDGET_ORDER = List.of("Limit", "Spent", "Reserved", "Remaining", "Age");

  /** The column order of a CRD's kind: {@link #BUDGET_ORDER} for TrainingBudget, {@link #ORDER} for TrainingJob. */
  public static List<String> orderOf(JsonNode crd) {
    return "TrainingBudget".equals(crd.at("/spec/names/kind").asText()) ? BUDGET_ORDER : ORDER;
  }

  /** A copy of a CRD document with every version's printer columns in the order of its kind ({@link #orderOf}). */
  public static JsonNode reorder(JsonNode crd) {
    List<String> order = orderOf(crd);
    JsonNode copy = crd.deepCopy();
    for (JsonNode version : copy.at("/spec/versions")) {
      JsonNode columns = version.get("additionalPrinterColumns");
      if (columns instanceof ArrayNode array) {
        List<JsonNode> sorted = new ArrayList<>();
        array.forEach(sorted::add);
        sorted.sort(Comparator.comparingInt(c -> {
          int i = order.indexOf(c.path("name").asText());
          return i < 0 ? order.size() : i;
        }));
        ((ObjectNode) version).set("additionalPrinterColumns", array.removeAll().addAll(sorted));
      }
    }
    return copy;
  }
}
