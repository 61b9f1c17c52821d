package dev.trainingjob.operator.reconciler;

/** One explicit step of a job's life, chosen from its current phase. */
public interface JobStep {
  StepResult run(JobContext ctx) throws Exception;
}
