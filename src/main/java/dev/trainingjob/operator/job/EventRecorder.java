package dev.trainingjob.operator.job;

import dev.trainingjob.operator.api.TrainingJob;

/** Records Kubernetes Events about a job, for kubectl describe. Messages never hold secrets. */
public interface EventRecorder {
  void normal(TrainingJob job, Reason reason, String message);

  void warning(TrainingJob job, Reason reason, String message);
}
