package dev.trainingjob.operator.api;

/** Annotations a person (through the plugin) sets on a TrainingJob to ask the operator for something. */
public final class Annotations {
  /** Any value ends a failed job's debug hold now: {@code kubectl trainingjob release NAME} sets it. */
  public static final String RELEASE = "trainingjob.dev/release";

  /**
   * A new value interrupts a running job as a spot notice would (the interrupt file, SIGTERM, the grace period, checkpoints
   * copied), and the job resumes as its next attempt: {@code kubectl trainingjob interrupt NAME} sets it.
   */
  public static final String INTERRUPT = "trainingjob.dev/interrupt";

  /** A new value starts a new run of the unchanged spec: {@code kubectl trainingjob rerun NAME} sets it. */
  public static final String RERUN = "trainingjob.dev/rerun";

  private Annotations() {}
}
