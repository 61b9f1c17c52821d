package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.job.Reason;

import dev.trainingjob.operator.job.JobFailure;

import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.InstanceStatus;
import dev.trainingjob.operator.job.AttemptSpent;
import dev.trainingjob.operator.job.WaitAndRetry;
import dev.trainingjob.operator.job.WaitForTurn;
import dev.trainingjob.operator.status.Conditions;
import java.time.Duration;
import java.time.Instant;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.provider.Machine;

/** Provisioning: ensure the job has a machine, and wait until it is up. */
final class ProvisionStep implements JobStep {
  /** The longest pause between two passes over the instance types while none has capacity. */
  static final Duration MAX_CAPACITY_BACKOFF = Duration.ofMinutes(5);

  @Override
  public StepResult run(JobContext ctx) throws Exception {
    Machine machine;
    try {
      machine = ctx.provider().ensure(ctx.job());
    } catch (WaitAndRetry shortage) {
      return waitForCapacity(ctx, shortage);
    } catch (WaitForTurn turn) {
      // the job stays Provisioning: its launch waits for the install's share of the provider's API
      ctx.status().message = turn.getMessage();
      return StepResult.checkAgainAfter(turn.after());
    } catch (AttemptSpent spent) {
      // persisted before the next launch: a crash in between only repeats this answer
      // a new launch of the same attempt (the script has not run): status.launch, part of the next launch's token
      var status = ctx.status();
      int next = (status.launch != null ? status.launch : Attempts.current(status)) + 1;
      status.launch = next;
      ctx.status().message = spent.getMessage() + "; launching again (launch " + next + ")";
      ctx.events().warning(ctx.job(), Reason.NewLaunchAttempt, ctx.status().message);
      return StepResult.checkAgainAfter(ctx.config().pollInterval());
    }
    if (Conditions.isTrue(ctx.status(), ConditionType.WAITING_FOR_CAPACITY)) {
      Conditions.set(ctx.status(), ConditionType.WAITING_FOR_CAPACITY, false, Reason.Launched, "Launched " + machine.id(),
          ctx.job().getMetadata().getGeneration(), ctx.nowText());
    }
    InstanceStatus before = ctx.status().instance;
    ctx.status().instance = toStatus(machine);
    if (ctx.status().instance.launchedAt == null) {
      // a machine that stays (local, host) is paid for from when the job first got it, not from the job's creation (a job
      // that waited for a budget did not use it meanwhile); kept across reconciles for the same machine
      ctx.status().instance.launchedAt = before != null && machine.id().equals(before.id) && before.launchedAt != null
          ? before.launchedAt : ctx.nowText();
    }
    switch (machine.state()) {
      case GONE -> {
        // a spot instance reclaimed before the script ran is replaced; any other machine gone ends the job
        if (machine.reclaimed()) {
          return Attempts.afterMachineGone(ctx, machine, null);
        }
        throw new JobFailure(Reason.InstanceLost, "machine " + machine.id() + " went away before the job started");
      }
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

  /**
   * No allowed type has capacity: say so, and since when, and look again after a pause that grows
   * with the wait (as long as the wait so far, from one poll interval up to five minutes). The
   * pending deadline ends it.
   */
  private static StepResult waitForCapacity(JobContext ctx, WaitAndRetry shortage) {
    var before = Conditions.find(ctx.status(), ConditionType.WAITING_FOR_CAPACITY);
    boolean first = before == null || !"True".equals(before.status);
    Conditions.set(ctx.status(), ConditionType.WAITING_FOR_CAPACITY, true, shortage.reason(), shortage.getMessage(),
        ctx.job().getMetadata().getGeneration(), ctx.nowText());
    Instant since = Instant.parse(Conditions.find(ctx.status(), ConditionType.WAITING_FOR_CAPACITY).lastTransitionTime);
    Duration waited = Duration.between(since, ctx.now());
    Duration pause = waited.compareTo(ctx.config().pollInterval()) < 0 ? ctx.config().pollInterval()
        : waited.compareTo(MAX_CAPACITY_BACKOFF) > 0 ? MAX_CAPACITY_BACKOFF : waited;
    ctx.status().message = "Waiting for capacity since " + since + ": " + shortage.getMessage() + "; trying again in "
        + pause.toSeconds() + "s";
    if (first) {
      ctx.events().warning(ctx.job(), shortage.reason(), shortage.getMessage() + "; the job waits for capacity and tries again "
          + "until spec.limits.maxPendingSeconds");
    }
    return StepResult.checkAgainAfter(pause);
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
