package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.EndingStatus;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.job.JobFailure;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.remote.ProbeResult;
import dev.trainingjob.operator.remote.RemoteHost;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way a running job is ended by a decision other than the script's own. {@link #decide} records the reason in
 * status.ending, which is written before anything is stopped, so an operator restarted at any point ends the job the same
 * way; {@link #carryOut}, on the next reconcile, stops the script (Ctrl-C, the grace period, then every process of the
 * job is killed; the driver copies the outputs to S3 if it can), reads what the driver recorded, and goes on to Finishing,
 * which collects what is on the machine and ends the job with that reason. A new kind of stop adds a reason, not a path.
 */
final class StopPath {
  private static final Logger LOG = LoggerFactory.getLogger(StopPath.class);
  /** The requeue that carries the stop out: at once, once the status that records it is written. */
  private static final Duration NOW = Duration.ofMillis(10);

  private StopPath() {}

  /** Records a stop and says to carry it out at once; the job ends Failed with {@code reason} and {@code message}. */
  static StepResult decide(JobContext ctx, Reason reason, String message) {
    if (ctx.status().ending == null) {
      ctx.status().ending = new EndingStatus(reason.name(), message, ctx.nowText());
      ctx.status().message = "Stopping the job: " + message;
    }
    return StepResult.checkAgainAfter(NOW);
  }

  /** Stops what runs of the job, then moves it to Finishing; retried (within the collect deadline) while it cannot. */
  static StepResult carryOut(JobContext ctx, ProbeApplier probes) throws Exception {
    var ending = ctx.status().ending;
    Instant giveUpAt = Instant.parse(ending.at).plus(ctx.config().remote().collectTimeout());
    RemoteHost remote;
    try {
      remote = ctx.remote();
    } catch (JobFailure e) {
      throw e;
    } catch (Exception unreachable) {
      var gone = ctx.ifMachineGone(unreachable);
      if (gone.isPresent()) {
        return gone.get();
      }
      if (ctx.now().isBefore(giveUpAt)) {
        throw unreachable;
      }
      Outputs.notSaved(ctx, "the machine did not answer, so nothing could be collected from it");
      if (Runs.REASONS.contains(ending.reason)) {
        // a new run or a suspension still happens; the machine that did not answer is not used again
        return Runs.machineLost(ctx, ending.message + "; the machine did not answer (" + unreachable.getMessage() + ")");
      }
      ctx.fail(reasonOf(ending.reason), ending.message + "; the machine did not answer (" + unreachable.getMessage() + ")");
      return StepResult.next();
    }
    try {
      // a driver that died left its script running (DriverLost): it is stopped too, so nothing writes while outputs download
      remote.stop(ctx.ref());
    } catch (Exception e) {
      if (ctx.now().isBefore(giveUpAt)) {
        throw e; // tried again with backoff: the script may still be training
      }
      LOG.warn("{}: the job's processes could not be stopped until the collect deadline ({}); collecting what is there",
          ctx.job().ref(), e.toString());
    }
    ProbeResult after;
    try {
      after = ctx.probe(remote);
    } catch (Exception e) {
      after = null;
    }
    if (after != null && after.attempt() != null && after.attempt() < Attempts.current(ctx.status())) {
      // the exit record is the attempt before's: the current one never started (a retry's backoff), so nothing of it ended
      after = null;
    }
    if (after != null) {
      probes.apply(ctx, after); // the script's last lines: what it printed on the notice
    }
    if (after != null && after.exited()) {
      // the driver recorded the interrupted script's exit (and whether its copy to S3 worked)
      return ScriptEnded.decide(ctx, after);
    }
    if (Reason.Interrupted.name().equals(ending.reason) && after != null && after.attempt() != null) {
      return Attempts.interruptedWithoutRecord(ctx); // an interrupt on purpose goes on, record or not
    }
    if (ctx.timings().finished == null) {
      ctx.timings().finished = ctx.nowText();
    }
    ctx.moveTo(Phase.Finishing, Reason.Finishing, ending.message + "; collecting what the script left on the machine");
    return StepResult.next();
  }

  /** A reason recorded by this operator or a newer one (a word this one does not know reads as a failed script). */
  static Reason reasonOf(String word) {
    try {
      return Reason.valueOf(word);
    } catch (IllegalArgumentException | NullPointerException e) {
      return Reason.ScriptFailed;
    }
  }
}
