package dev.trainingjob.operator.api;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.stream.Collectors;

/**
 * Reads a stored TrainingJob (and TrainingBudget) whatever it holds. The informer deserializes every object of the kind:
 * one that throws (an unknown key, a wrong type, a number out of range — version skew, or an API
 * server that does not enforce the schema) would stop the informer and with it the operator for
 * every job. So the spec is read strictly but never throws: what cannot be read is kept as a
 * sentence naming the field, and the job ends InvalidSpec. The status is read leniently (a newer
 * operator's fields are skipped), dropping only the fields that cannot be read.
 */
public final class TolerantReaders {
  private static final int MAX_PROBLEM_CHARS = 300;
  private static final ObjectMapper STRICT = new ObjectMapper()
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
  private static final ObjectMapper LENIENT = new ObjectMapper()
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.READ_UNKNOWN_ENUM_VALUES_AS_NULL);

  private TolerantReaders() {}

  /** The spec, or an empty spec whose {@link TrainingJobSpec#unreadable} says which field could not be read. */
  public static final class Spec extends JsonDeserializer<TrainingJobSpec> {
    @Override
    public TrainingJobSpec deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      return readSpec(p.readValueAsTree());
    }
  }

  /** The status, without the fields this operator cannot read. */
  public static final class Status extends JsonDeserializer<TrainingJobStatus> {
    @Override
    public TrainingJobStatus deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      return readStatus(p.readValueAsTree());
    }
  }

  /** A TrainingBudget's spec, or an empty one whose {@link TrainingBudgetSpec#unreadable} says which field could not be read. */
  public static final class BudgetSpec extends JsonDeserializer<TrainingBudgetSpec> {
    @Override
    public TrainingBudgetSpec deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      JsonNode node = p.readValueAsTree();
      try {
        return STRICT.treeToValue(node, TrainingBudgetSpec.class);
      } catch (IOException | IllegalArgumentException e) {
        TrainingBudgetSpec unreadable = new TrainingBudgetSpec();
        unreadable.unreadable = describe("spec", e);
        return unreadable;
      }
    }
  }

  /** A TrainingBudget's status, without the fields this operator cannot read. */
  public static final class BudgetStatus extends JsonDeserializer<TrainingBudgetStatus> {
    @Override
    public TrainingBudgetStatus deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      return lenient(p.readValueAsTree(), TrainingBudgetStatus.class, TrainingBudgetStatus::new);
    }
  }

  static TrainingJobSpec readSpec(JsonNode node) {
    try {
      return STRICT.treeToValue(node, TrainingJobSpec.class);
    } catch (IOException | IllegalArgumentException e) {
      TrainingJobSpec unreadable = new TrainingJobSpec();
      unreadable.unreadable = describe("spec", e);
      return unreadable;
    }
  }

  static TrainingJobStatus readStatus(JsonNode node) {
    return lenient(node, TrainingJobStatus.class, TrainingJobStatus::new);
  }

  private static <T> T lenient(JsonNode node, Class<T> type, java.util.function.Supplier<T> empty) {
    JsonNode current = node;
    // each pass drops the top-level field that failed; a status has only so many fields
    for (int i = 0; i < 32; i++) {
      try {
        return LENIENT.treeToValue(current, type);
      } catch (JsonMappingException e) {
        if (!(current instanceof ObjectNode object) || e.getPath().isEmpty() || e.getPath().get(0).getFieldName() == null) {
          return empty.get();
        }
        current = object.deepCopy().without(e.getPath().get(0).getFieldName());
      } catch (IOException | IllegalArgumentException e) {
        return empty.get();
      }
    }
    return empty.get();
  }

  /** "spec.compute.gcp: not a field of ComputeSpec (known: ec2, host, local)" and the like. */
  static String describe(String root, Exception e) {
    Throwable t = e instanceof IllegalArgumentException && e.getCause() != null ? e.getCause() : e;
    if (!(t instanceof JsonMappingException m)) {
      return root + ": cannot be read: " + cut(t.getMessage());
    }
    StringBuilder field = new StringBuilder(root);
    for (JsonMappingException.Reference ref : m.getPath()) {
      if (ref.getFieldName() != null) {
        field.append('.').append(ref.getFieldName());
      } else if (ref.getIndex() >= 0) {
        field.append('[').append(ref.getIndex()).append(']');
      }
    }
    if (m instanceof UnrecognizedPropertyException u) {
      String known = u.getKnownPropertyIds() == null ? "" : u.getKnownPropertyIds().stream().map(Object::toString).sorted()
          .collect(Collectors.joining(", "));
      return field + ": is not a field this operator knows" + (known.isEmpty() ? "" : " (known here: " + known + ")")
          + "; is the CRD newer than the operator?";
    }
    return field + ": cannot be read: " + cut(m.getOriginalMessage());
  }

  private static String cut(String message) {
    String first = message == null ? "" : message.lines().findFirst().orElse("");
    return first.length() > MAX_PROBLEM_CHARS ? first.substring(0, MAX_PROBLEM_CHARS) + "…" : first;
  }
}
