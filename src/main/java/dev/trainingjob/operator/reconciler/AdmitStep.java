package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.Phase;

/** Pending: the spec passed validation; start the first launch attempt. */
final class AdmitStep implements JobStep {
  @Override
  public StepResult run(JobContext ctx) {
    if (ctx.status().attempt == null) {
      ctx.status().attempt = 1;
    }
    ctx.moveTo(Phase.Provisioning, "Provisioning", "Asking provider " + ctx.provider().name() + " for a machine");
    return StepResult.next();
  }
}
