package dev.trainingjob.operator.support;

import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.job.EventRecorder;
import dev.trainingjob.operator.job.Reason;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Keeps Events in memory, for tests that call the reconciler without an API server. */
public final class RecordingEvents implements EventRecorder {
  public record Recorded(String job, String type, Reason reason, String message) {}

  private final List<Recorded> events = new CopyOnWriteArrayList<>();

  @Override
  public void normal(TrainingJob job, Reason reason, String message) {
    events.add(new Recorded(job.ref(), "Normal", reason, message));
  }

  @Override
  public void warning(TrainingJob job, Reason reason, String message) {
    events.add(new Recorded(job.ref(), "Warning", reason, message));
  }

  public List<Reason> reasons(String jobRef) {
    return events.stream().filter(e -> e.job().equals(jobRef)).map(Recorded::reason).toList();
  }

  public List<Recorded> all() {
    return List.copyOf(events);
  }
}
