package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.LimitsSpec;
import dev.trainingjob.operator.job.JobFailure;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.remote.ProbeResult;
import dev.trainingjob.operator.status.Conditions;
import dev.trainingjob.operator.status.CostEstimate;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

/**
 * The guards of spec.limits against waste, checked at each probe of a running script: the dollar cap (maxCostUSD), a script
 * that shows no activity (stallSeconds), GPUs that do nothing (idleGpu), a disk about to fill (minFreeDiskGiB). A guard that
 * trips says so once (the GuardTripped condition and a Warning Event) and decides a stop on the one stop path: the script
 * gets the notice (the interrupt file, SIGTERM, the grace), what it wrote is collected, the machine released.
 */
final class Guards {
  private static final double GIB = 1024.0 * 1024 * 1024;

  private Guards() {}

  /** The stop a guard decided on this probe, if one tripped. */
  static Optional<StepResult> check(JobContext ctx, ProbeResult probe) {
    LimitsSpec limits = ctx.job().getSpec().limits;
    if (limits == null && ctx.status().budget == null) {
      return Optional.empty();
    }
    // a script that uses its whole grace after the notice still ends within the cap
    Optional<String> budget = budgetStop(ctx, limits, ctx.config().probeInterval().plus(ctx.config().remote().stopGrace()));
    if (budget.isPresent()) {
      return Optional.of(trip(ctx, Reason.BudgetExceeded, budget.get()));
    }
    if (limits == null) {
      return Optional.empty();
    }
    if (limits.minFreeDiskGiB != null && probe.disk() != null && probe.disk().totalBytes() > 0) {
      double free = (probe.disk().totalBytes() - probe.disk().usedBytes()) / GIB;
      if (free < limits.minFreeDiskGiB) {
        return Optional.of(trip(ctx, Reason.DiskFull, String.format(Locale.ROOT, "the job's file system has %.2f GiB free, less "
            + "than spec.limits.minFreeDiskGiB (%s); the script was stopped before the disk filled", free, limits.minFreeDiskGiB)));
      }
    }
    if (limits.idleGpu != null) {
      Optional<String> idle = idleGpu(ctx, limits.idleGpu, probe);
      if (idle.isPresent()) {
        return Optional.of(trip(ctx, Reason.IdleGpu, idle.get()));
      }
    }
    if (limits.stallSeconds != null) {
      Instant since = latest(ctx.timings().lastActivity, ctx.timings().attemptStarted, ctx.timings().bootstrapped);
      if (since != null && !ctx.now().isBefore(since.plusSeconds(limits.stallSeconds))) {
        return Optional.of(trip(ctx, Reason.Stalled, "the script wrote no progress record and no output line since " + since
            + " (spec.limits.stallSeconds: " + limits.stallSeconds + ")"));
      }
    }
    return Optional.empty();
  }

  /**
   * Before the script runs (the machine is up, Python is prepared): the machine costs money all the same, and past the cap the
   * job ends at once, with nothing of the script's to collect.
   */
  static void checkBeforeStart(JobContext ctx) {
    capPassedWithoutTheScript(ctx).ifPresent(why -> {
      throw new JobFailure(Reason.BudgetExceeded, "Stopped before the script ran: " + why);
    });
  }

  /**
   * The cap passed by the next probe, where no script can be given the notice (it has not started, or its machine does not
   * answer): only the next probe interval is looked ahead. Says so in the GuardTripped condition.
   */
  static Optional<String> capPassedWithoutTheScript(JobContext ctx) {
    LimitsSpec limits = ctx.job().getSpec().limits;
    Optional<String> why = budgetStop(ctx, limits, ctx.config().probeInterval());
    why.ifPresent(w -> Conditions.set(ctx.status(), ConditionType.GUARD_TRIPPED, true, Reason.BudgetExceeded, w,
        ctx.job().getMetadata().getGeneration(), ctx.nowText()));
    return why;
  }

  /**
   * Whether the cap would be passed {@code ahead}: the cost so far plus that much more at the current price (one probe interval,
   * the next chance to stop, and for a running script the grace it has after the notice). Also warns once when the projected
   * total passes the cap.
   */
  private static Optional<String> budgetStop(JobContext ctx, LimitsSpec limits, Duration ahead) {
    Optional<Cap> cap = cap(ctx, limits);
    if (cap.isEmpty()) {
      return Optional.empty();
    }
    var billed = CostEstimate.apply(ctx.job(), ctx.prices(), ctx.now());
    var cost = ctx.status().cost;
    if (billed.isEmpty() || cost == null || cost.totalUSD == null) {
      return Optional.empty();
    }
    double atStop = cost.totalUSD + billed.get().price().forSeconds(ahead.toMillis() / 1000.0);
    warnIfProjectedOver(ctx, cap.get());
    if (atStop <= cap.get().usd()) {
      return Optional.empty();
    }
    return Optional.of(String.format(Locale.ROOT, "the job has cost %s at %s an hour (%s); in %ds more (the next probe, and the "
        + "grace a stopped script has) it would pass %s (%s)", CostEstimate.dollars(cost.totalUSD),
        CostEstimate.dollars(billed.get().price().usdPerHour()), billed.get().price().source(), ahead.toSeconds(),
        cap.get().what(), CostEstimate.dollars(cap.get().usd())));
  }

  /** The most the job may cost, and what says so. */
  private record Cap(double usd, String what) {}

  /**
   * spec.limits.maxCostUSD, or what the job reserved in its namespace's TrainingBudgets at admission when that is less (a
   * reservation of price times maxRuntimeSeconds, or a cap raised after admission): a budget is never spent past what it
   * reserved for the job.
   */
  private static Optional<Cap> cap(JobContext ctx, LimitsSpec limits) {
    Double spec = limits == null ? null : limits.maxCostUSD;
    var budget = ctx.status().budget;
    Double reserved = budget != null && budget.reservedUSD != null && !Boolean.TRUE.equals(budget.settled) ? budget.reservedUSD
        : null;
    if (reserved != null && (spec == null || reserved < spec)) {
      return Optional.of(new Cap(reserved, "the job's reservation in TrainingBudget"
          + (budget.budgets != null && budget.budgets.size() == 1 ? " " + budget.budgets.get(0) : "s " + budget.budgets)));
    }
    return spec == null ? Optional.empty() : Optional.of(new Cap(spec, "spec.limits.maxCostUSD"));
  }

  private static void warnIfProjectedOver(JobContext ctx, Cap cap) {
    var cost = ctx.status().cost;
    if (cost.projectedTotalUSD == null || cost.projectedTotalUSD <= cap.usd()
        || Conditions.isTrue(ctx.status(), ConditionType.OVER_BUDGET_PROJECTED)) {
      return;
    }
    String message = "The projected total " + CostEstimate.dollars(cost.projectedTotalUSD) + " (cost so far "
        + CostEstimate.dollars(cost.totalUSD) + " plus the ETA at " + CostEstimate.dollars(cost.pricePerHourUSD) + " an hour) "
        + "passes " + cap.what() + " " + CostEstimate.dollars(cap.usd()) + ": the job will be stopped before it finishes";
    Conditions.set(ctx.status(), ConditionType.OVER_BUDGET_PROJECTED, true, Reason.OverBudgetProjected, message,
        ctx.job().getMetadata().getGeneration(), ctx.nowText());
    ctx.events().warning(ctx.job(), Reason.OverBudgetProjected, message);
  }

  /** Every GPU below the threshold since status.timings.gpuIdleSince (set on the first probe that saw it, cleared by any busy one). */
  private static Optional<String> idleGpu(JobContext ctx, LimitsSpec.IdleGpuSpec idle, ProbeResult probe) {
    var timings = ctx.timings();
    var gpus = probe.gpus();
    boolean allIdle = gpus != null && !gpus.isEmpty() && idle.belowPercent != null
        && gpus.stream().allMatch(g -> g.utilizationPercent() != null && g.utilizationPercent() < idle.belowPercent);
    if (!allIdle) {
      timings.gpuIdleSince = null;
      return Optional.empty();
    }
    Instant since = timings.gpuIdleSince == null ? null : Instant.parse(timings.gpuIdleSince);
    Instant attempt = timings.attemptStarted == null ? null : Instant.parse(timings.attemptStarted);
    if (since == null || attempt != null && since.isBefore(attempt)) {
      timings.gpuIdleSince = ctx.nowText(); // counted within the current attempt only
      return Optional.empty();
    }
    if (idle.forSeconds == null || ctx.now().isBefore(since.plusSeconds(idle.forSeconds))) {
      return Optional.empty();
    }
    return Optional.of("every GPU (" + gpus.size() + ") stayed below " + idle.belowPercent.intValue() + "% utilisation since "
        + since + " (spec.limits.idleGpu.forSeconds: " + idle.forSeconds + ")");
  }

  private static StepResult trip(JobContext ctx, Reason reason, String why) {
    if (ctx.status().ending == null) {
      Conditions.set(ctx.status(), ConditionType.GUARD_TRIPPED, true, reason, why, ctx.job().getMetadata().getGeneration(),
          ctx.nowText());
      ctx.events().warning(ctx.job(), reason, "Stopping the job: " + why);
    }
    return StopPath.decide(ctx, reason, why);
  }

  /** The latest of a few RFC 3339 times (null ones left out); null when all are. */
  private static Instant latest(String... times) {
    Instant latest = null;
    for (String t : times) {
      if (t != null) {
        Instant i = Instant.parse(t);
        latest = latest == null || i.isAfter(latest) ? i : latest;
      }
    }
    return latest;
  }
}
