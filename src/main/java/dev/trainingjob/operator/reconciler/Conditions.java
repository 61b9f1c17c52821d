package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.JobCondition;
import dev.trainingjob.operator.api.TrainingJobStatus;
import java.util.ArrayList;
import java.util.Objects;

/** Sets Kubernetes-style conditions, keeping lastTransitionTime unless the status flips. */
public final class Conditions {
  /** True while the job moves toward its end; reason = the phase. */
  public static final String PROGRESSING = "Progressing";
  /** True once the job Succeeded. */
  public static final String COMPLETE = "Complete";
  /** True once the job Failed; reason says why (InvalidSpec, ScriptFailed, ...). */
  public static final String FAILED = "Failed";
  /** True once nothing the job held is left running (instance terminated, session stopped). */
  public static final String RELEASED = "Released";

  private Conditions() {}

  public static void set(TrainingJobStatus status, String type, boolean value, String reason, String message,
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
    c.reason = reason;
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
