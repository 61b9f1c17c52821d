package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.AttemptStatus;
import dev.trainingjob.operator.api.CheckpointSpec;
import dev.trainingjob.operator.api.ComputeSpec;
import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.EndingStatus;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.RetrySpec;
import dev.trainingjob.operator.api.Timings;
import dev.trainingjob.operator.api.TrainingJobStatus;
import dev.trainingjob.operator.job.JobFailure;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.provider.Machine;
import dev.trainingjob.operator.remote.ProbeResult;
import dev.trainingjob.operator.status.Conditions;
import dev.trainingjob.operator.status.CostEstimate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Optional;

/**
 * Attempts within a run: when an attempt ends, whether the job goes on as the next one, and where. A retry (spec.retry) and
 * an interruption on purpose (kubectl trainingjob interrupt) run the script again on the same machine, with its checkpoint
 * directory intact; a spot interruption (the driver's record of the notice, or EC2's state reason once the instance is gone)
 * launches a new machine, on-demand once spot was given up. Each ended attempt is recorded in status.attempts, with its cost,
 * before anything starts the next: the decision is written first, then carried out on the next reconcile.
 */
final class Attempts {
  /** The requeue that carries a decision out once the status that records it is written. */
  private static final Duration NOW = Duration.ofMillis(10);
  /** status.attempts keeps the last this many. */
  static final int KEPT = 100;

  private Attempts() {}

  /** After the driver recorded an exit: the next attempt's step result, or empty when the exit ends the job. */
  static Optional<StepResult> afterExit(JobContext ctx, ProbeResult probe) {
    var status = ctx.status();
    var kind = probe.reason().kind();
    Integer code = probe.exitCode();
    boolean interruptAsked = status.ending != null && Reason.Interrupted.name().equals(status.ending.reason);
    if (interruptAsked && kind != ProbeResult.ExitReason.Kind.INTERRUPTED && kind != ProbeResult.ExitReason.Kind.SPOT_INTERRUPTED) {
      status.ending = null; // the script ended by itself before the notice reached it: that exit decides
      interruptAsked = false;
    }
    if (probe.attempt() == null || Deadlines.runtimeLeft(ctx).filter(Duration::isNegative).isPresent()) {
      // a job directory of the previous release cannot hold a second attempt; and no attempt starts past maxRuntimeSeconds
      return Optional.empty();
    }
    if (kind == ProbeResult.ExitReason.Kind.SPOT_INTERRUPTED && (status.ending == null || interruptAsked)) {
      return Optional.of(relaunch(ctx, code, "the spot instance got an interruption notice; the script was stopped (exit code "
          + code + ") and its checkpoint copied"));
    }
    if (interruptAsked) {
      return Optional.of(sameMachine(ctx, code, Reason.Interrupted, Reason.Interrupted.name(),
          "Interrupted on request; the script exited with code " + code,
          Duration.ZERO));
    }
    var retry = ctx.job().getSpec().retry;
    if (status.ending != null && Reason.Stalled.name().equals(status.ending.reason)) {
      // a stalled script (spec.limits.stallSeconds) is run again while spec.retry has retries left, whatever its exit code
      long used = retriesUsed(status);
      if (used < RetrySpec.maxRetriesOf(retry)) {
        return Optional.of(sameMachine(ctx, code, Reason.Retrying, Reason.Stalled.name(), "The script stalled and was stopped ("
            + status.ending.message + "); retry " + (used + 1) + " of " + RetrySpec.maxRetriesOf(retry) + " (spec.retry)",
            Duration.ofSeconds(RetrySpec.backoffOf(retry))));
      }
      return Optional.empty();
    }
    boolean scriptExited = kind == ProbeResult.ExitReason.Kind.EXITED || kind == ProbeResult.ExitReason.Kind.SYNC_FAILED;
    if (status.ending == null && scriptExited && code != null && RetrySpec.retries(retry, code)) {
      long used = retriesUsed(status);
      if (used < RetrySpec.maxRetriesOf(retry)) {
        return Optional.of(sameMachine(ctx, code, Reason.Retrying, "ExitCode", "The script exited with code " + code + "; retry " + (used + 1)
            + " of " + RetrySpec.maxRetriesOf(retry) + " (spec.retry)", Duration.ofSeconds(RetrySpec.backoffOf(retry))));
      }
    }
    return Optional.empty();
  }

  /**
   * The provider says the machine is gone. One the cloud reclaimed (a spot interruption, with or without a notice the driver
   * saw) is replaced by a new one, the script resuming from the last checkpoint copied; any other ends the job InstanceLost.
   */
  static StepResult afterMachineGone(JobContext ctx, Machine machine, String lastError) {
    var ending = ctx.status().ending;
    boolean stopping = ending != null && !Reason.Interrupted.name().equals(ending.reason);
    if (ending != null && Runs.REASONS.contains(ending.reason)) {
      // the stop was for a new run or a suspension: that still happens, on another machine
      return Runs.machineLost(ctx, ending.message + "; machine " + machine.id() + " went away"
          + (machine.message() == null ? "" : " (" + machine.message() + ")"));
    }
    boolean timeLeft = Deadlines.runtimeLeft(ctx).filter(Duration::isNegative).isEmpty();
    if (machine.reclaimed() && !stopping && timeLeft) {
      return relaunch(ctx, null, "EC2 reclaimed the spot instance " + machine.id()
          + (machine.message() == null ? "" : " (" + machine.message() + ")"));
    }
    String gone = "Machine " + machine.id() + " went away while the job was on it"
        + (machine.message() == null ? "" : " (" + machine.message() + ")");
    Outputs.notSaved(ctx, "the machine went away before they were collected");
    throw new JobFailure(Reason.InstanceLost, gone + (lastError == null ? "" : "; last error: " + lastError));
  }

  /**
   * An interrupt on purpose was carried out, but the driver recorded no exit (it was killed while it copied): the next attempt
   * starts on the same machine all the same (start.sh sets the last attempt aside, record or not).
   */
  static StepResult interruptedWithoutRecord(JobContext ctx) {
    return sameMachine(ctx, null, Reason.Interrupted, Reason.Interrupted.name(), "Interrupted on request; the driver recorded no exit",
        Duration.ZERO);
  }

  /** How many retries (spec.retry) the job has used: attempts that ended with an exit code the policy retried. */
  static long retriesUsed(TrainingJobStatus status) {
    return status.retries == null ? 0 : status.retries;
  }

  /** The next attempt on the machine the job holds: after the backoff, start.sh starts it there. */
  private static StepResult sameMachine(JobContext ctx, Integer code, Reason reason, String attemptEnded, String why,
      Duration backoff) {
    var status = ctx.status();
    finishAttempt(ctx, code, attemptEnded);
    if (reason == Reason.Retrying) {
      status.retries = (int) retriesUsed(status) + 1; // counted apart: status.attempts keeps only the last ones
    }
    int next = current(status) + 1;
    status.attempt = next;
    Instant startAt = ctx.now().plus(backoff);
    startNext(ctx).attemptStarted = startAt.toString();
    String message = why + "; attempt " + next + (backoff.isZero() ? " starts now" : " starts at " + startAt)
        + " on the same machine";
    if (reason == Reason.Interrupted) {
      Conditions.set(status, ConditionType.INTERRUPTED, true, Reason.Interrupted, message, ctx.job().getMetadata().getGeneration(),
          ctx.nowText());
    }
    ctx.moveTo(Phase.Bootstrapping, reason, message);
    return StepResult.checkAgainAfter(backoff.compareTo(NOW) > 0 ? backoff : NOW);
  }

  /** A new machine for the next attempt: spot again, on-demand once spot was given up, or the end after too many interruptions. */
  private static StepResult relaunch(JobContext ctx, Integer code, String why) {
    var status = ctx.status();
    int interruptions = (status.interruptions == null ? 0 : status.interruptions) + 1;
    status.interruptions = interruptions;
    ComputeSpec.Ec2Spec ec2 = status.compute == null ? null : status.compute.ec2;
    int allowed = ComputeSpec.Ec2Spec.maxInterruptionsOf(ec2);
    Long generation = ctx.job().getMetadata().getGeneration();
    String counted = "interruption " + interruptions + " (spec.compute.ec2.maxInterruptions: " + allowed + ")";
    Conditions.set(status, ConditionType.INTERRUPTED, true, Reason.Interrupted, why + "; " + counted, generation, ctx.nowText());
    if (interruptions > allowed && !ComputeSpec.Ec2Spec.onDemandFallbackOf(ec2)) {
      // the one stop path: whatever the dying machine still answers with is collected, and the job ends with this reason
      finishAttempt(ctx, code, Reason.SpotInterrupted.name());
      status.ending = new EndingStatus(Reason.SpotInterrupted.name(), "The spot instance was interrupted " + interruptions
          + " times, more than spec.compute.ec2.maxInterruptions (" + allowed + "), and spec.compute.ec2.onDemandFallback is false",
          ctx.nowText());
      if (ctx.timings().finished == null) {
        ctx.timings().finished = ctx.nowText();
      }
      ctx.moveTo(Phase.Finishing, Reason.Finishing, status.ending.message + "; collecting what is left");
      return StepResult.checkAgainAfter(NOW);
    }
    finishAttempt(ctx, code, Reason.SpotInterrupted.name());
    if (interruptions > allowed && !Boolean.TRUE.equals(status.onDemandFallback)) {
      status.onDemandFallback = true;
      ctx.events().warning(ctx.job(), Reason.OnDemandFallback, "The spot instance was interrupted " + interruptions
          + " times, more than spec.compute.ec2.maxInterruptions (" + allowed + "): the next launches are on-demand");
    }
    int launch = status.launch != null ? status.launch : current(status);
    int next = current(status) + 1;
    status.attempt = next;
    status.launch = launch + 1;
    startNext(ctx).attemptStarted = ctx.nowText();
    status.instance = null;
    status.attachCommand = null;
    ctx.closeConnections();
    boolean spot = status.compute != null && status.compute.ec2 != null && Boolean.TRUE.equals(status.compute.ec2.spot)
        && !Boolean.TRUE.equals(status.onDemandFallback);
    ctx.events().warning(ctx.job(), Reason.Interrupted, why + "; " + counted);
    boolean checkpointed = CheckpointSpec.s3UriOf(ctx.job().getSpec().checkpoint, ctx.job().getSpec().output) != null;
    ctx.moveTo(Phase.Provisioning, Reason.Relaunching, why + "; launching attempt " + next + " on a new "
        + (spot ? "spot" : "on-demand") + " instance, " + (checkpointed ? "to resume from the last checkpoint copied"
        : "where the script starts from the beginning (no spec.checkpoint.s3Uri or spec.output.s3Uri: checkpoints cannot "
        + "leave an instance)"));
    return StepResult.checkAgainAfter(NOW);
  }

  /**
   * The pending deadline passed while waiting for spot capacity: with spec.compute.ec2.onDemandFallback (the default) the job
   * launches on-demand from now on, with the pending deadline counted again. True when it did.
   */
  static boolean giveUpSpot(JobContext ctx) {
    var status = ctx.status();
    ComputeSpec.Ec2Spec ec2 = status.compute == null ? null : status.compute.ec2;
    if (ec2 == null || !Boolean.TRUE.equals(ec2.spot) || Boolean.TRUE.equals(status.onDemandFallback)
        || !ComputeSpec.Ec2Spec.onDemandFallbackOf(ec2) || !Conditions.isTrue(status, ConditionType.WAITING_FOR_CAPACITY)
        || status.instance != null) {
      return false;
    }
    status.onDemandFallback = true;
    status.launch = (status.launch != null ? status.launch : current(status)) + 1;
    ctx.timings().attemptStarted = ctx.nowText();
    String message = "No spot capacity within spec.limits.maxPendingSeconds (" + Deadlines.maxPendingSeconds(ctx.job().getSpec().limits)
        + "s): launching on-demand instead (spec.compute.ec2.onDemandFallback)";
    status.message = message;
    ctx.events().warning(ctx.job(), Reason.OnDemandFallback, message);
    return true;
  }

  /**
   * spec.suspend stopped the attempt: it is recorded, and the next one (after the resume) is launched anew where the machine is
   * the job's own, with a launch token of its own.
   */
  static void suspend(JobContext ctx) {
    var status = ctx.status();
    if (status.attempt == null) {
      return; // never admitted: nothing ran
    }
    finishAttempt(ctx, status.exitCode, Reason.Suspended.name());
    int launch = status.launch != null ? status.launch : current(status);
    status.attempt = current(status) + 1;
    status.launch = launch + 1;
    startNext(ctx);
  }

  /** The job ended: its last attempt goes into status.attempts too, once. */
  static void recordLast(JobContext ctx, String reason) {
    var status = ctx.status();
    if (status.attempt == null) {
      return; // never admitted: no attempt ran
    }
    if (status.attempts != null && !status.attempts.isEmpty()
        && status.attempts.get(status.attempts.size() - 1).number != null
        && status.attempts.get(status.attempts.size() - 1).number >= current(status)) {
      return; // recorded already (the spot interruption that ended the job)
    }
    finishAttempt(ctx, status.exitCode, reason);
  }

  /** Clears what belonged to the attempt that ended; returns the timings, for the next attempt's start. */
  private static Timings startNext(JobContext ctx) {
    var status = ctx.status();
    status.exitCode = null;
    status.failure = null;
    status.ending = null;
    var timings = ctx.timings();
    timings.finished = null;
    return timings;
  }

  /** Records the attempt that ended in status.attempts, with what its share of the machine cost. */
  private static void finishAttempt(JobContext ctx, Integer code, String reason) {
    var status = ctx.status();
    if (status.attempts == null) {
      status.attempts = new ArrayList<>();
    }
    AttemptStatus a = new AttemptStatus();
    a.number = current(status);
    var instance = status.instance;
    if (instance != null) {
      a.instanceId = instance.id;
      a.instanceType = instance.type;
      a.spot = Boolean.TRUE.equals(instance.spot) ? Boolean.TRUE : null;
    }
    a.startedAt = billedFrom(status);
    a.finishedAt = ctx.nowText();
    a.reason = reason;
    a.exitCode = code;
    if (a.startedAt != null) {
      ctx.prices().current(ctx.job(), instance).ifPresent(price -> {
        a.costUSD = Math.round(price.forSeconds(Duration.between(Instant.parse(a.startedAt), ctx.now()).toMillis() / 1000.0) * 100)
            / 100.0;
        a.priceSource = price.source();
      });
    }
    status.attempts.add(a);
    while (status.attempts.size() > KEPT) {
      status.attempts.remove(0);
    }
    CostEstimate.apply(ctx.job(), ctx.prices(), ctx.now());
  }

  /** Where the ended attempt's share of its machine begins: the end of the attempt before it on the same machine, or the launch. */
  private static String billedFrom(TrainingJobStatus status) {
    var instance = status.instance;
    if (instance == null || instance.launchedAt == null) {
      return null;
    }
    Instant tenure = CostEstimate.tenureStart(status);
    if (status.attempts != null) {
      for (int i = status.attempts.size() - 1; i >= 0; i--) {
        var earlier = status.attempts.get(i);
        if (instance.id != null && instance.id.equals(earlier.instanceId) && earlier.finishedAt != null
            && Instant.parse(earlier.finishedAt).isAfter(tenure)) {
          return earlier.finishedAt;
        }
      }
    }
    return tenure.toString();
  }

  static int current(TrainingJobStatus status) {
    return status.attempt == null ? 1 : status.attempt;
  }
}
