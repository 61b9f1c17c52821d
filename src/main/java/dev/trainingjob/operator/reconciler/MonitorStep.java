package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.remote.ProbeResult;

/** Running: probe the job, mirror what it reports into status, notice when it ends. */
final class MonitorStep implements JobStep {
  private final ProbeApplier probes;

  MonitorStep(ProbeApplier probes) {
    this.probes = probes;
  }

  @Override
  public StepResult run(JobContext ctx) throws Exception {
    ProbeResult probe;
    try {
      probe = ctx.probe(ctx.remote());
    } catch (JobFailure e) {
      throw e;
    } catch (Exception e) {
      ctx.failIfMachineGone(e);
      throw e;
    }
    probes.apply(ctx, probe);
    if (probe.exited()) {
      return StartStep.toFinishing(ctx, probe);
    }
    if (!probe.sessionAlive()) {
      // the driver writes exit_code before its session ends, so a dead session without one means it was killed
      throw new JobFailure("DriverLost", "The screen session " + ctx.ref().sessionName()
          + " ended without recording an exit code (the machine rebooted, or someone killed it)");
    }
    return StepResult.checkAgainAfter(ctx.config().probeInterval());
  }
}
