package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.Annotations;
import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.status.Conditions;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeping a job's machine after it ended, before release. The debug hold (spec.limits.keepAfterFailureSeconds): a job
 * that failed where its script or bootstrap ran keeps its machine that long from its failure, with a shell in the job's
 * screen session where attach lands. The rescue hold: outputs that could not be saved (the collect deadline, the size
 * bound, a failed copy) are only on the machine, which is kept at least {@link #RESCUE_HOLD} so a person can fetch them.
 * The DebugHold condition says until when. Each look re-runs hold.sh (the shell comes back if a person ended it, the ec2
 * guard's heartbeat and ceiling move on) and asks the provider whether the machine is still there.
 * {@code kubectl trainingjob release NAME} (the annotation {@value Annotations#RELEASE}), deleting the job, the time
 * passing, or the machine going away ends it. A hold that cannot start (the machine does not answer) is skipped.
 */
final class DebugHold {
  private static final Logger LOG = LoggerFactory.getLogger(DebugHold.class);
  static final String RELEASE_ANNOTATION = Annotations.RELEASE;
  /** The failures that leave a machine worth looking at: the script or its bootstrap ran there. */
  private static final Set<Reason> HELD = EnumSet.of(Reason.ScriptFailed, Reason.BootstrapFailed, Reason.OutputSyncFailed,
      Reason.MaxRuntimeExceeded, Reason.DriverLost);
  /** How long a machine holding outputs that could not be saved is kept at least, though the spec asked for no hold. */
  static final Duration RESCUE_HOLD = Duration.ofHours(1);
  /** How long after the operator's own deadline the machine's guard may power it off, should the operator be gone by then. */
  static final Duration GUARD_MARGIN = Duration.ofMinutes(10);

  private DebugHold() {}

  /** When to look again while the machine is held; empty when it is not (or no longer) held, and release may go on. */
  static Optional<StepResult> step(JobContext ctx) {
    var status = ctx.status();
    var condition = Conditions.find(status, ConditionType.DEBUG_HOLD);
    boolean holding = condition != null && "True".equals(condition.status);
    if (condition != null && !holding) {
      return Optional.empty(); // ended, or never started
    }
    Optional<Instant> until = until(ctx);
    String ended = until.isEmpty() ? "spec.limits.keepAfterFailureSeconds no longer asks for it"
        : releaseAsked(ctx) ? "kubectl trainingjob release asked for it"
        : Runs.newRunWaiting(ctx) ? "a new run (a changed spec, or a rerun) starts, once the machine is released"
        : !ctx.now().isBefore(until.get()) ? "its time (" + until.get() + ") passed"
        : holding && machineGone(ctx) ? "the machine is gone" : null;
    if (ended != null) {
      if (holding) {
        set(ctx, false, Reason.DebugHoldEnded, "The hold ended: " + ended + "; the machine is released");
        ctx.events().normal(ctx.job(), Reason.DebugHoldEnded, "The hold ended: " + ended);
      }
      return Optional.empty();
    }
    long ceiling = until.get().plus(GUARD_MARGIN).getEpochSecond();
    try {
      ctx.remote().hold(ctx.ref(), ceiling);
    } catch (Exception e) {
      if (holding) {
        // the machine may be back on the next look; the time limit, release and deletion still end the hold
        LOG.warn("{}: keeping the held machine failed this time: {}", ctx.job().ref(), e.toString());
      } else {
        LOG.warn("{}: the hold could not start: {}", ctx.job().ref(), e.toString());
        String message = "The machine could not be kept (" + e.getMessage() + "); it is released";
        set(ctx, false, Reason.DebugHoldFailed, message);
        ctx.events().warning(ctx.job(), Reason.DebugHoldFailed, message);
        return Optional.empty();
      }
    }
    if (!holding) {
      String name = ctx.job().getMetadata().getName();
      String message = "The machine is kept until " + until.get() + (rescue(ctx)
          ? ", since outputs that could not be saved are only on it (" + status.outputs.notSaved + "),"
          : " for debugging (spec.limits.keepAfterFailureSeconds)") + " and costs money meanwhile: kubectl trainingjob attach "
          + name + " opens a shell in the job's directory; kubectl trainingjob release " + name
          + ", or deleting the job, ends the hold early";
      set(ctx, true, Reason.DebugHold, message);
      ctx.events().normal(ctx.job(), Reason.DebugHold, message);
    }
    return Optional.of(StepResult.checkAgainAfter(Deadlines.until(ctx.config().pollInterval(),
        Optional.of(Duration.between(ctx.now(), until.get())))));
  }

  /** The end of the hold for a job that ended where a hold applies; empty when none is asked for or it does not apply. */
  static Optional<Instant> until(JobContext ctx) {
    var status = ctx.status();
    if (status.phase == null || !status.phase.isFinal() || status.finishedAt == null || status.instance == null
        || Conditions.isTrue(status, ConditionType.RELEASED)) {
      return Optional.empty();
    }
    if (endedWith(ctx) == Reason.BudgetExceeded) {
      return Optional.empty(); // the money is spent: no hold, not even to rescue outputs, keeps paying for the machine
    }
    var limits = ctx.job().getSpec().limits;
    long keep = status.phase == Phase.Failed && HELD.contains(endedWith(ctx)) && limits != null
        && limits.keepAfterFailureSeconds != null ? limits.keepAfterFailureSeconds : 0;
    if (rescue(ctx)) {
      keep = Math.max(keep, RESCUE_HOLD.toSeconds());
    }
    return keep <= 0 ? Optional.empty() : Optional.of(Instant.parse(status.finishedAt).plusSeconds(keep));
  }

  /** Outputs that could not be saved are on a machine that may still be there. */
  private static boolean rescue(JobContext ctx) {
    var outputs = ctx.status().outputs;
    return outputs != null && outputs.notSaved != null && endedWith(ctx) != Reason.InstanceLost;
  }

  private static Reason endedWith(JobContext ctx) {
    var condition = Conditions.find(ctx.status(), ctx.status().phase == Phase.Failed ? ConditionType.FAILED : ConditionType.COMPLETE);
    return condition == null ? null : StopPath.reasonOf(condition.reason);
  }

  private static boolean machineGone(JobContext ctx) {
    try {
      return ctx.machineGone();
    } catch (Exception e) {
      return false; // the provider could not say: the next look asks again
    }
  }

  private static boolean releaseAsked(JobContext ctx) {
    var annotations = ctx.job().getMetadata().getAnnotations();
    String value = annotations == null ? null : annotations.get(RELEASE_ANNOTATION);
    return value != null && !value.isBlank() && !value.equals(ctx.status().releaseRequest);
  }

  private static void set(JobContext ctx, boolean held, Reason reason, String message) {
    Conditions.set(ctx.status(), ConditionType.DEBUG_HOLD, held, reason, message, ctx.job().getMetadata().getGeneration(),
        ctx.nowText());
  }
}
