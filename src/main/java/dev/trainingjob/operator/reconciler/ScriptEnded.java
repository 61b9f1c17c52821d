package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.EndingStatus;
import dev.trainingjob.operator.api.FailureStatus;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.remote.ProbeResult;
import dev.trainingjob.operator.status.FailureDiagnosis;
import dev.trainingjob.operator.status.ProbeStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * What follows once the driver recorded an exit, whichever step saw it (the script may end before
 * the first probe that would have seen it run, or the operator stopped it): collect the outputs, or
 * end the job at once when the script never ran. A copy to S3 that failed ends the job
 * OutputSyncFailed, after the outputs were collected to the operator instead.
 */
final class ScriptEnded {
  private ScriptEnded() {}

  /** How long an exit seen while the driver's session is still open waits for the session to end. */
  static final Duration SESSION_END_WAIT = Duration.ofSeconds(3);

  /**
   * An exit seen while the driver's session is still open: the driver records the exit just before it ends, and screen writes
   * the log's last lines (flushed once a second) when the session closes. Since an exit is noticed at once, the traceback's
   * last line, which a failure is diagnosed from, was often not in the log yet ("ScriptError" instead of "GpuOutOfMemory").
   * Such an exit is looked at again shortly, until the session has ended, at most {@link #SESSION_END_WAIT} after it was
   * first seen (a session that lingers is not waited for longer).
   */
  static Optional<StepResult> waitForTheSessionToEnd(JobContext ctx, ProbeResult probe) {
    if (!probe.exited() || !probe.sessionAlive()) {
      return Optional.empty();
    }
    if (ctx.timings().finished == null) {
      ctx.timings().finished = ctx.nowText(); // when the exit was first seen
    }
    if (!ctx.now().isBefore(Instant.parse(ctx.timings().finished).plus(SESSION_END_WAIT))) {
      return Optional.empty();
    }
    return Optional.of(StepResult.checkAgainAfter(Duration.ofMillis(200)));
  }

  static StepResult decide(JobContext ctx, ProbeResult probe) {
    var status = ctx.status();
    status.exitCode = probe.exitCode();
    if (ctx.timings().finished == null) {
      ctx.timings().finished = ctx.nowText();
    }
    // the detail can name a command or a URL: masked like the log before it reaches status and Events
    String detail = ProbeStatus.redacted(probe.detail(), ctx.bundles().secretValues(ctx.job()));
    String uri = ctx.provider().duties(ctx.job()).outputUri();
    if (probe.reason().kind() == ProbeResult.ExitReason.Kind.SPOT_INTERRUPTED && uri != null) {
      // the driver copied what the interrupted attempt had written; the next attempt adds to it
      Outputs.of(status).uri = uri;
    }
    if (status.ending != null && Runs.REASONS.contains(status.ending.reason)
        && probe.reason().kind() == ProbeResult.ExitReason.Kind.EXITED) {
      // the script ended by itself before the notice reached it: its exit decides how the run ended (a finished run is
      // not suspended; a new run starts after it, as after any ended run)
      status.ending = null;
    }
    var next = Attempts.afterExit(ctx, probe);
    if (next.isPresent()) {
      return next.get();
    }
    boolean forTheSpec = status.ending != null && Runs.REASONS.contains(status.ending.reason);
    switch (forTheSpec && probe.reason().kind() == ProbeResult.ExitReason.Kind.BOOTSTRAP_FAILED ? ProbeResult.ExitReason.Kind.NONE
        : probe.reason().kind()) {
      case BOOTSTRAP_FAILED -> {
        // the script never ran: nothing to collect
        String where = detail != null ? "while " + detail : "at step " + probe.reason().step();
        FailureStatus failure = diagnose(ctx, probe, FailureDiagnosis.Ending.BOOTSTRAP_FAILED);
        ctx.fail(Reason.BootstrapFailed, FailureDiagnosis.sentence(failure, "Python bootstrap failed " + where + " (exit code "
            + probe.exitCode() + ")"));
        return StepResult.next();
      }
      case SYNC_FAILED -> {
        // the outputs are collected to the operator instead; status.outputs.notSaved names only what that could not save
        if (status.ending == null) {
          status.ending = new EndingStatus(Reason.OutputSyncFailed.name(), "The script exited with code " + probe.exitCode()
              + ", but its outputs were not copied: " + detail, ctx.nowText());
        }
      }
      // an unknown code (a newer driver) is judged, like an exit, by the exit code
      case EXITED, INTERRUPTED, SPOT_INTERRUPTED, NONE, UNKNOWN -> {
        if (uri != null && (probe.reason().kind() == ProbeResult.ExitReason.Kind.EXITED
            || probe.reason().kind() == ProbeResult.ExitReason.Kind.INTERRUPTED)) {
          // the driver copied them before it recorded the exit (an interrupted script's too)
          Outputs.of(status).uri = uri;
          status.outputUri = uri;
        }
        // a stop the operator made has said what the failure was (Timeout) already
        if (probe.exitCode() != null && probe.exitCode() != 0 && !(status.ending != null && status.failure != null)) {
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
