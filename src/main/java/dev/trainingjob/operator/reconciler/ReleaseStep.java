package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.job.Reason;

import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.status.Conditions;
import dev.trainingjob.operator.status.Lifecycle;

import dev.trainingjob.operator.api.Phase;

/**
 * Succeeded, Failed, and deletion: release what the job holds until the provider says nothing is
 * left. A job that failed before any machine was asked for (an invalid spec) has nothing to release.
 */
final class ReleaseStep implements JobStep {
  @Override
  public StepResult run(JobContext ctx) throws Exception {
    return release(ctx) ? StepResult.done() : StepResult.checkAgainAfter(ctx.config().pollInterval());
  }

  /** True once everything is released. */
  boolean release(JobContext ctx) throws Exception {
    var status = ctx.status();
    if (Conditions.isTrue(status, ConditionType.RELEASED)) {
      return true;
    }
    Long generation = ctx.job().getMetadata().getGeneration();
    if (neverProvisioned(ctx)) {
      Lifecycle.released(status, true, Reason.NothingToRelease, "No machine was ever asked for", generation, ctx.now());
      return true;
    }
    if (ctx.provider().release(ctx.job())) {
      Lifecycle.released(status, true, Reason.Released, "Everything the job held was released", generation, ctx.now());
      ctx.events().normal(ctx.job(), Reason.Released, "Released the machine" + (status.instance == null ? "" : " " + status.instance.id));
      return true;
    }
    Lifecycle.released(status, false, Reason.Releasing, "Waiting for the machine to be released", generation, ctx.now());
    return false;
  }

  /** Failed before a launch attempt was even numbered: only validation ends a job there. */
  private static boolean neverProvisioned(JobContext ctx) {
    return ctx.status().attempt == null && ctx.status().phase == Phase.Failed;
  }
}
