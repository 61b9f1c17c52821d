package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.FailureStatus;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.remote.ProbeResult;
import dev.trainingjob.operator.status.FailureDiagnosis;
import dev.trainingjob.operator.status.ProbeStatus;

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
    // the detail can name a command or a URL: masked like the log before it reaches status and Events
    String detail = ProbeStatus.redacted(probe.detail(), ctx.bundles().secretValues(ctx.job()));
    switch (probe.reason().kind()) {
      case BOOTSTRAP_FAILED -> {
        // the script never ran: nothing to collect
        String where = detail != null ? "while " + detail : "at step " + probe.reason().step();
        FailureStatus failure = diagnose(ctx, probe, FailureDiagnosis.Ending.BOOTSTRAP_FAILED);
        ctx.fail(Reason.BootstrapFailed, FailureDiagnosis.sentence(failure, "Python bootstrap failed " + where + " (exit code "
            + probe.exitCode() + ")"));
        return StepResult.next();
      }
      case SYNC_FAILED -> {
        ctx.fail(Reason.OutputSyncFailed, "The script exited with code " + probe.exitCode() + ", but its outputs were not copied: "
            + detail);
        return StepResult.next();
      }
      // an unknown code (a newer driver) is judged, like an exit, by the exit code
      case EXITED, INTERRUPTED, NONE, UNKNOWN -> {
        if (probe.exitCode() != null && probe.exitCode() != 0) {
          // read now, while the log tail is the one the script ended with; FinishStep words the failure with it
          diagnose(ctx, probe, probe.reason().kind() == ProbeResult.ExitReason.Kind.INTERRUPTED
              ? FailureDiagnosis.Ending.INTERRUPTED : FailureDiagnosis.Ending.EXITED);
        }
      }
    }
    ctx.moveTo(Phase.Finishing, Reason.Finishing, "The script exited with code " + probe.exitCode() + "; collecting outputs");
    return StepResult.next();
  }

  private static FailureStatus diagnose(JobContext ctx, ProbeResult probe, FailureDiagnosis.Ending ending) {
    var usage = ctx.status().usage;
    FailureStatus failure = FailureDiagnosis.diagnose(ctx.status().logTail, probe.exitCode(), ending,
        usage == null ? null : usage.diskUsedPercent, probe.reason().step());
    ctx.status().failure = failure;
    return failure;
  }
}
