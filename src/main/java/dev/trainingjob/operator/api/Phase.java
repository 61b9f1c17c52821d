package dev.trainingjob.operator.api;

/** The phases a job walks through; Succeeded and Failed are final. */
public enum Phase {
  Pending, Provisioning, Bootstrapping, Running, Finishing, Succeeded, Failed;

  public boolean isFinal() {
    return this == Succeeded || this == Failed;
  }
}
