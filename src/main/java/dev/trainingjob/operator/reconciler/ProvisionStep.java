package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.job.Reason;

import dev.trainingjob.operator.job.JobFailure;

import dev.trainingjob.operator.api.InstanceStatus;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.provider.Machine;

/** Provisioning: ensure the job has a machine, and wait until it is up. */
final class ProvisionStep implements JobStep {
  @Override
  public StepResult run(JobContext ctx) throws Exception {
    Machine machine = ctx.provider().ensure(ctx.job());
    ctx.status().instance = toStatus(machine);
    switch (machine.state()) {
      case GONE -> throw new JobFailure(Reason.InstanceLost, "machine " + machine.id() + " went away before the job started");
      case RUNNING -> {
        if (machine.address() != null) {
          ctx.timings().provisioned = ctx.nowText();
          ctx.moveTo(Phase.Bootstrapping, Reason.Bootstrapping,
              "Machine " + machine.id() + " is up at " + machine.address() + "; connecting over SSH");
          return StepResult.next();
        }
      }
      default -> { }
    }
    ctx.status().message = machine.message() != null ? machine.message()
        : "Waiting for machine " + machine.id() + " to start";
    return StepResult.checkAgainAfter(ctx.config().pollInterval());
  }

  static InstanceStatus toStatus(Machine machine) {
    InstanceStatus s = new InstanceStatus();
    s.id = machine.id();
    s.type = machine.type();
    s.address = machine.address();
    s.sshUser = machine.sshUser();
    s.launchedAt = machine.launchedAt();
    s.spot = machine.spot() ? Boolean.TRUE : null;
    return s;
  }
}
