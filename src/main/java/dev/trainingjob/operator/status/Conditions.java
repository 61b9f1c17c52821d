package dev.trainingjob.operator.status;

import dev.trainingjob.operator.api.JobCondition;
import dev.trainingjob.operator.api.TrainingJobStatus;
import dev.trainingjob.operator.job.Reason;
import java.util.ArrayList;
import java.util.Objects;

/**
 * Sets and reads Kubernetes-style conditions (types in {@link dev.trainingjob.operator.api.ConditionType}),
 * keeping lastTransitionTime unless the status flips.
 */
public final class Conditions {
  private Conditions() {}

  public static void set(TrainingJobStatus status, String type, boolean value, Reason reason, String message,
      Long generation, String now) {
    if (status.conditions == null) {
      status.conditions = new ArrayList<>();
    }
    String text = value ? "True" : "False";
    JobCondition c = find(status, type);
    if (c == null) {
      c = new JobCondition();
      c.type = type;
      status.conditions.add(c);
    }
    if (!Objects.equals(c.status, text)) {
      c.lastTransitionTime = now;
    }
    c.status = text;
    c.reason = reason.name();
    c.message = message;
    c.observedGeneration = generation;
  }

  public static JobCondition find(TrainingJobStatus status, String type) {
    if (status == null || status.conditions == null) {
      return null;
    }
    return status.conditions.stream().filter(c -> type.equals(c.type)).findFirst().orElse(null);
  }

  public static boolean isTrue(TrainingJobStatus status, String type) {
    JobCondition c = find(status, type);
    return c != null && "True".equals(c.status);
  }
}
