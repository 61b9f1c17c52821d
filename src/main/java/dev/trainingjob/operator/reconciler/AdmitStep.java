package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.job.Reason;

import dev.trainingjob.operator.job.JobFailure;

import dev.trainingjob.operator.api.Phase;

/** Pending: the spec passed validation; start the first launch attempt. */
final class AdmitStep implements JobStep {
  @Override
  public StepResult run(JobContext ctx) throws Exception {
    var provider = ctx.provider(); // a provider this operator lacks ends the job here, before anything is held
    var output = ctx.job().getSpec().output;
    if (output != null && output.s3Uri != null && provider.duties(ctx.job()).outputUri() == null) {
      // only a machine made for the job has a role to copy with; elsewhere the URI would be silently ignored
      throw new JobFailure(Reason.InvalidSpec, "spec.output.s3Uri is copied by EC2 instances only; provider " + provider.name()
          + " collects spec.output.paths to the operator's output directory instead — remove s3Uri or use compute.ec2");
    }
    var missing = ctx.bundles().missingReference(ctx.job());
    if (missing.isPresent()) {
      // nothing is launched for a job that could not start: wait (the pending deadline ends the wait)
      String message = "Waiting for " + missing.get() + " before anything is launched";
      if (!message.equals(ctx.status().message)) {
        ctx.events().normal(ctx.job(), Reason.WaitingForReference, message);
      }
      ctx.moveTo(Phase.Pending, Reason.WaitingForReference, message);
      return StepResult.checkAgainAfter(ctx.config().pollInterval());
    }
    // the namespace's budgets reserve the job's worst case before anything costs money, or the job waits holding nothing
    var budget = BudgetAdmission.admit(ctx);
    if (budget.isPresent()) {
      return budget.get();
    }
    // asked once, before anything is held: what can never work fails here, naming the field
    var admitted = provider.admit(ctx.job());
    if (ctx.status().attempt == null) {
      ctx.status().attempt = 1;
    }
    // from here on the job is this provider's, whatever spec.compute says later: release goes there
    ctx.status().provider = provider.name();
    ctx.status().compute = admitted;
    var limits = ctx.job().getSpec().limits;
    if (limits != null && limits.maxCostUSD != null && ctx.prices().worstCase(ctx.job(), provider.name()).isEmpty()) {
      // a cap on a cost that cannot be counted would never stop anything: said before anything is launched
      throw new JobFailure(Reason.InvalidSpec, "spec.limits.maxCostUSD needs a price for the job's machine, and "
          + (admitted != null && admitted.ec2 != null ? "an instance type the spec allows is not in the operator's price list "
          + "(add it with --price-list)" : "there is none (set hourlyPriceUSD under spec.compute)")
          + "; or remove maxCostUSD");
    }
    ctx.moveTo(Phase.Provisioning, Reason.Provisioning, "Asking provider " + provider.name() + " for a machine");
    return StepResult.next();
  }
}
