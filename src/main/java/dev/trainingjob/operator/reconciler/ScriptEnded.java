package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.remote.ProbeResult;

/**
 * What follows once the driver recorded an exit, whichever step saw it (the script may end before
 * the first probe that would have seen it run): collect the outputs, or end the job at once when
 * the script never ran or its outputs could not be copied.
 */
final class ScriptEnded {
  private ScriptEnded() {}

  static StepResult decide(JobContext ctx, ProbeResult probe) {
    ctx.status().exitCode = probe.exitCode();
    ctx.timings().finished = ctx.nowText();
    if (probe.reason() != null && probe.reason().startsWith("bootstrap failed")) {
      // the script never ran: nothing to collect
      ctx.fail(Reason.BootstrapFailed, "Python bootstrap failed: " + probe.reason().substring("bootstrap failed ".length())
          + " (exit code " + probe.exitCode() + ")");
      return StepResult.next();
    }
    if (probe.reason() != null && probe.reason().startsWith("output sync failed")) {
      ctx.fail(Reason.OutputSyncFailed, "The script exited with code " + probe.exitCode() + ", but its outputs were not copied: "
          + probe.reason().substring("output sync failed: ".length()));
      return StepResult.next();
    }
    ctx.moveTo(Phase.Finishing, Reason.Finishing, "The script exited with code " + probe.exitCode() + "; collecting outputs");
    return StepResult.next();
  }
}
