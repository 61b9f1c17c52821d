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
 * The debug hold (spec.limits.keepAfterFailureSeconds): a job that failed on a machine that answers keeps it that long
 * from its failure, with a shell in the job's screen session where attach lands, before release. The DebugHold condition
 * says until when; the probes go on (an ec2 machine's guard counts them as the operator checking in, and the hold moves
 * its ceiling). {@code kubectl trainingjob release NAME} (the annotation {@value #RELEASE_ANNOTATION}) or deleting the job
 * ends it early; the time passing ends it on time. A hold that cannot start (the machine does not answer) is skipped.
 */
final class DebugHold {
  private static final Logger LOG = LoggerFactory.getLogger(DebugHold.class);
  static final String RELEASE_ANNOTATION = Annotations.RELEASE;
  /** The failures that leave a machine worth looking at: the script or its bootstrap ran there. */
  private static final Set<Reason> HELD = EnumSet.of(Reason.ScriptFailed, Reason.BootstrapFailed, Reason.OutputSyncFailed,
      Reason.MaxRuntimeExceeded, Reason.DriverLost);
  /**
   * How long a machine whose copy to S3 failed is kept when the collection that replaced it could not save everything
   * either (the size bound, the deadline), though the spec asked for no hold: what is left is only on that machine.
   */
  static final Duration RESCUE_HOLD = Duration.ofHours(1);
  /** How long after the hold the machine's own guard may power it off, should the operator be gone by then. */
  private static final Duration GUARD_MARGIN = Duration.ofMinutes(10);

  private DebugHold() {}

  /** When to look again while the machine is held; empty when it is not (or no longer) held, and release may go on. */
  static Optional<StepResult> step(JobContext ctx) {
    var status = ctx.status();
    Optional<Instant> until = until(ctx);
    if (until.isEmpty()) {
      return Optional.empty();
    }
    var condition = Conditions.find(status, ConditionType.DEBUG_HOLD);
    if (condition != null && !"True".equals(condition.status)) {
      return Optional.empty(); // ended, or never started
    }
    String name = ctx.job().getMetadata().getName();
    String ended = releaseAsked(ctx) ? "kubectl trainingjob release asked for it"
        : !ctx.now().isBefore(until.get()) ? "its time (" + until.get() + ") passed" : null;
    if (ended != null) {
      set(ctx, false, Reason.DebugHoldEnded, "The debug hold ended: " + ended + "; the machine is released");
      ctx.events().normal(ctx.job(), Reason.DebugHoldEnded, "The debug hold ended: " + ended);
      return Optional.empty();
    }
    if (condition == null) {
      try {
        ctx.remote().hold(ctx.ref(), until.get().plus(GUARD_MARGIN).getEpochSecond());
      } catch (Exception e) {
        LOG.warn("{}: the debug hold could not start: {}", ctx.job().ref(), e.toString());
        String message = "The machine could not be kept for debugging (" + e.getMessage() + "); it is released";
        set(ctx, false, Reason.DebugHoldFailed, message);
        ctx.events().warning(ctx.job(), Reason.DebugHoldFailed, message);
        return Optional.empty();
      }
      boolean rescue = ctx.status().outputs != null && ctx.status().outputs.notSaved != null
          && Reason.OutputSyncFailed.name().equals(Conditions.find(ctx.status(), ConditionType.FAILED).reason);
      String message = "The machine is kept until " + until.get() + (rescue
          ? ", since outputs that could not be saved are only on it (" + ctx.status().outputs.notSaved + "),"
          : " for debugging (spec.limits.keepAfterFailureSeconds)") + " and costs money meanwhile: kubectl trainingjob attach " + name + " opens a shell in the job's directory; kubectl "
          + "trainingjob release " + name + ", or deleting the job, ends the hold early";
      set(ctx, true, Reason.DebugHold, message);
      ctx.events().normal(ctx.job(), Reason.DebugHold, message);
    } else {
      FinishStep.feedGuard(ctx);
    }
    return Optional.of(StepResult.checkAgainAfter(Deadlines.until(ctx.config().pollInterval(),
        Optional.of(Duration.between(ctx.now(), until.get())))));
  }

  /** The end of the hold for a job that failed where a hold helps; empty when none is asked for or it does not apply. */
  static Optional<Instant> until(JobContext ctx) {
    var status = ctx.status();
    var limits = ctx.job().getSpec().limits;
    long keep = limits == null || limits.keepAfterFailureSeconds == null ? 0 : limits.keepAfterFailureSeconds;
    var failed = Conditions.find(status, ConditionType.FAILED);
    if (failed != null && Reason.OutputSyncFailed.name().equals(failed.reason) && status.outputs != null
        && status.outputs.notSaved != null) {
      keep = Math.max(keep, RESCUE_HOLD.toSeconds());
    }
    if (keep <= 0 || status.phase != Phase.Failed || status.finishedAt == null || status.instance == null
        || Conditions.isTrue(status, ConditionType.RELEASED)) {
      return Optional.empty();
    }
    if (failed == null || HELD.stream().noneMatch(r -> r.name().equals(failed.reason))) {
      return Optional.empty();
    }
    return Optional.of(Instant.parse(status.finishedAt).plusSeconds(keep));
  }

  private static boolean releaseAsked(JobContext ctx) {
    var annotations = ctx.job().getMetadata().getAnnotations();
    String value = annotations == null ? null : annotations.get(RELEASE_ANNOTATION);
    return value != null && !value.isBlank();
  }

  private static void set(JobContext ctx, boolean held, Reason reason, String message) {
    Conditions.set(ctx.status(), ConditionType.DEBUG_HOLD, held, reason, message, ctx.job().getMetadata().getGeneration(),
        ctx.nowText());
  }
}
