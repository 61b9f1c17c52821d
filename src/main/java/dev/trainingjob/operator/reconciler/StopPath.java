package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.EndingStatus;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.remote.ProbeResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way a running job is ended by a decision other than the script's own: the reason is recorded first (so a
 * restarted operator ends the job the same way), the script is stopped (Ctrl-C, the grace period, then every process of
 * the job is killed; the driver copies the outputs to S3 if it can), and the job goes on to Finishing, which collects
 * what is on the machine and then ends the job with that reason. A new kind of stop adds a reason, not a path.
 */
final class StopPath {
  private static final Logger LOG = LoggerFactory.getLogger(StopPath.class);

  private StopPath() {}

  /** Stops the script and collects its outputs; the job then ends Failed with {@code reason} and {@code message}. */
  static StepResult stop(JobContext ctx, Reason reason, String message) throws Exception {
    record(ctx, reason, message);
    var remote = ctx.remote();
    try {
      remote.stop(ctx.ref());
    } catch (Exception e) {
      // what is on disk is collected all the same; release stops whatever is left
      LOG.warn("{}: stopping the script for {} failed: {}", ctx.job().ref(), reason, e.toString());
    }
    ProbeResult after;
    try {
      after = ctx.probe(remote);
    } catch (Exception e) {
      after = null;
    }
    if (after != null && after.exited()) {
      // the driver recorded the interrupted script's exit (and whether its copy to S3 worked)
      return ScriptEnded.decide(ctx, after);
    }
    return collectWhatIsThere(ctx, reason, message);
  }

  /** The driver is gone without an exit record: whatever the script left on disk is collected before the job ends. */
  static StepResult collectWhatIsThere(JobContext ctx, Reason reason, String message) {
    record(ctx, reason, message);
    if (ctx.timings().finished == null) {
      ctx.timings().finished = ctx.nowText();
    }
    ctx.moveTo(Phase.Finishing, Reason.Finishing, message + "; collecting what the script left on the machine");
    return StepResult.next();
  }

  private static void record(JobContext ctx, Reason reason, String message) {
    if (ctx.status().ending == null) {
      ctx.status().ending = new EndingStatus(reason.name(), message, ctx.nowText());
    }
  }
}
