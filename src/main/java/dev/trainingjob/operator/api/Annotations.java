package dev.trainingjob.operator.api;

/** Annotations a person (through the plugin) sets on a TrainingJob to ask the operator for something. */
public final class Annotations {
  /** Any value ends a failed job's debug hold now: {@code kubectl trainingjob release NAME} sets it. */
  public static final String RELEASE = "trainingjob.dev/release";

  private Annotations() {}
}
