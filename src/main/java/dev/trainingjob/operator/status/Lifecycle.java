package dev.trainingjob.operator.status;

import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.Timings;
import dev.trainingjob.operator.api.TrainingJobStatus;
import dev.trainingjob.operator.job.Reason;
import java.time.Instant;

/**
 * Where a job is in its life: the phase, the conditions that mirror it, and the timings. Every phase
 * change goes through {@link #moveTo}, so the phase and the Progressing/Complete/Failed conditions
 * can never disagree.
 */
public final class Lifecycle {
  private Lifecycle() {}

  /**
   * Moves the status to a phase with the reason and message that say why.
   *
   * @return true when the phase changed (the caller then tells the user: an Event and a log line)
   */
  public static boolean moveTo(TrainingJobStatus status, Phase phase, Reason reason, String message, Long generation,
      Instant now) {
    Phase from = status.phase;
    status.phase = phase;
    status.message = message;
    String at = now.toString();
    switch (phase) {
      case Succeeded -> {
        Conditions.set(status, ConditionType.PROGRESSING, false, reason, message, generation, at);
        Conditions.set(status, ConditionType.COMPLETE, true, reason, message, generation, at);
      }
      case Failed -> {
        Conditions.set(status, ConditionType.PROGRESSING, false, reason, message, generation, at);
        Conditions.set(status, ConditionType.FAILED, true, reason, message, generation, at);
      }
      default -> Conditions.set(status, ConditionType.PROGRESSING, true, reason, message, generation, at);
    }
    if (phase.isFinal() && status.finishedAt == null) {
      status.finishedAt = at;
    }
    if (phase.isFinal() && Conditions.isTrue(status, ConditionType.WAITING_FOR_CAPACITY)) {
      // an ended job waits for nothing: dashboards and kubectl wait must not see it waiting
      Conditions.set(status, ConditionType.WAITING_FOR_CAPACITY, false, reason, message, generation, at);
    }
    return from != phase;
  }

  /** The status's timings, made on first use: steps record each milestone as they pass it. */
  public static Timings timings(TrainingJobStatus status) {
    if (status.timings == null) {
      status.timings = new Timings();
    }
    return status.timings;
  }

  /** Records that nothing the job held is left (or, with {@code released} false, that release waits). */
  public static void released(TrainingJobStatus status, boolean released, Reason reason, String message, Long generation,
      Instant now) {
    if (released && reason == Reason.Released) {
      timings(status).released = now.toString();
    }
    Conditions.set(status, ConditionType.RELEASED, released, reason, message, generation, now.toString());
  }
}
