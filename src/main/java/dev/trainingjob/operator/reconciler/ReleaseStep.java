package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.job.JobFailure;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.status.Conditions;
import dev.trainingjob.operator.status.Lifecycle;
import java.time.Duration;
import java.util.Objects;

/**
 * Succeeded, Failed, and deletion: after a failure's debug hold (if the spec asks for one), release what the job holds, through the provider that holds it,
 * until that provider says nothing is left. A job no provider was ever asked about (an invalid
 * spec, a provider this operator does not have) has nothing to release.
 */
final class ReleaseStep implements JobStep {
  @Override
  public StepResult run(JobContext ctx) throws Exception {
    var held = DebugHold.step(ctx);
    if (held.isPresent()) {
      return held.get();
    }
    if (!release(ctx)) {
      return StepResult.checkAgainAfter(ctx.config().pollInterval());
    }
    // a new run waits for this release (a changed spec, a rerun): looked at again at once, as nothing else wakes the job
    return Runs.newRunWaiting(ctx) ? StepResult.checkAgainAfter(Duration.ofMillis(10)) : StepResult.done();
  }

  /** True once everything is released. */
  boolean release(JobContext ctx) throws Exception {
    var status = ctx.status();
    if (Conditions.isTrue(status, ConditionType.RELEASED)) {
      return true;
    }
    Long generation = ctx.job().getMetadata().getGeneration();
    if (neverAdmitted(ctx)) {
      Lifecycle.released(status, true, Reason.NothingToRelease, "No machine was ever asked for", generation, ctx.now());
      return true;
    }
    boolean released;
    try {
      released = ctx.provider().release(ctx.job());
    } catch (JobFailure blocked) {
      // retrying cannot help (the provider is gone from this operator, a key was deleted): say what is
      // held and how to let go, and look again now and then in case the cause is put right
      blocked(ctx, blocked.getMessage());
      return false;
    }
    if (released) {
      // the machine may stay (host, local): the operator keeps no connection to it, for this job, from now on
      ctx.closeConnections();
      Lifecycle.released(status, true, Reason.Released, "Everything the job held was released", generation, ctx.now());
      ctx.events().normal(ctx.job(), Reason.Released, "Released the machine" + (status.instance == null ? "" : " " + status.instance.id));
      return true;
    }
    Lifecycle.released(status, false, Reason.Releasing, "Waiting for the machine to be released", generation, ctx.now());
    return false;
  }

  private static void blocked(JobContext ctx, String cause) {
    var status = ctx.status();
    String held = status.instance == null || status.instance.id == null
        ? "whatever provider " + ctx.providerName() + " may have started for it (no machine id was recorded)"
        : "machine " + status.instance.id + (status.instance.address == null ? "" : " at " + status.instance.address);
    String message = "Cannot release " + held + ": " + cause + ". Put that right, or release it by hand and then let the job go: "
        + "kubectl patch trainingjob " + ctx.job().getMetadata().getName() + " -n " + ctx.job().getMetadata().getNamespace()
        + " --type=merge -p '{\"metadata\":{\"finalizers\":null}}'";
    var before = Conditions.find(status, ConditionType.RELEASED);
    Lifecycle.released(status, false, Reason.ReleaseBlocked, message, ctx.job().getMetadata().getGeneration(), ctx.now());
    if (before == null || !Objects.equals(before.message, message)) {
      ctx.events().warning(ctx.job(), Reason.ReleaseBlocked, message);
    }
  }

  /** No provider was ever asked for a machine: validation or admission ended the job first. */
  private static boolean neverAdmitted(JobContext ctx) {
    // jobs admitted by an older operator have an attempt but no recorded provider
    return ctx.status().provider == null && ctx.status().attempt == null;
  }
}
