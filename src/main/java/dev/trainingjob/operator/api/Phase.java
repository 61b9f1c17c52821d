package dev.trainingjob.operator.api;

/** The phases a job walks through; Succeeded and Failed are final (until a changed spec or a rerun starts a new run). */
public enum Phase {
  Pending, Provisioning, Bootstrapping, Running, Finishing, Succeeded, Failed,
  /** spec.suspend: the run was stopped and its machine released; it resumes when spec.suspend is false again. */
  Suspended;

  public boolean isFinal() {
    return this == Succeeded || this == Failed;
  }
}
