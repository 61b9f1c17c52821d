package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.LimitsSpec;
import dev.trainingjob.operator.api.Phase;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import dev.trainingjob.operator.status.Conditions;

/**
 * Every wait has an end. Before the script runs, everything together (capacity, SSH, a hanging
 * pip) has spec.limits.maxPendingSeconds from the job's creation (a later attempt's from when it began); the
 * script itself has spec.limits.maxRuntimeSeconds from its first start, all attempts together. Each returns the time left, so a reconcile looks
 * again at the deadline rather than a whole interval after it, and a retried error cannot outlive it.
 */
final class Deadlines {
  /** The phases the pending deadline covers: until the script runs. */
  static final Set<Phase> PENDING = EnumSet.of(Phase.Pending, Phase.Provisioning, Phase.Bootstrapping);
  /** Wake this much after a deadline, so the check at the wake-up sees it passed. */
  private static final Duration AFTER = Duration.ofMillis(100);

  private Deadlines() {}

  /** Time left before the script must run; empty outside the pending phases or without a creation time. */
  static Optional<Duration> pendingLeft(JobContext ctx) {
    String created = ctx.job().getMetadata().getCreationTimestamp();
    // a later attempt (a relaunch, a retry after its backoff) has the whole deadline again, from when it began
    var timings = ctx.status().timings;
    String since = timings != null && timings.attemptStarted != null ? timings.attemptStarted : created;
    if (!PENDING.contains(ctx.status().phase) || since == null) {
      return Optional.empty();
    }
    if (ctx.status().phase == Phase.Pending && Conditions.isTrue(ctx.status(), ConditionType.BUDGET_EXHAUSTED)) {
      return Optional.empty(); // a queue for a budget holds nothing and costs nothing: it has no deadline
    }
    Instant start = Instant.parse(since);
    if (timings != null && timings.admitted != null && Instant.parse(timings.admitted).isAfter(start)) {
      start = Instant.parse(timings.admitted); // the deadline counts from the end of the wait for a budget
    }
    Instant deadline = start.plusSeconds(maxPendingSeconds(ctx.job().getSpec().limits));
    return Optional.of(Duration.between(ctx.now(), deadline));
  }

  static long maxPendingSeconds(LimitsSpec limits) {
    return limits == null || limits.maxPendingSeconds == null ? LimitsSpec.DEFAULT_MAX_PENDING_SECONDS : limits.maxPendingSeconds;
  }

  /** Time the script may still run, counted from its start; empty without a limit or before it started. */
  static Optional<Duration> runtimeLeft(JobContext ctx) {
    var limits = ctx.job().getSpec().limits;
    var timings = ctx.status().timings;
    if (limits == null || limits.maxRuntimeSeconds == null || timings == null || timings.bootstrapped == null) {
      return Optional.empty();
    }
    // the time the job spent suspended (spec.suspend) is not the script's
    long suspended = timings.suspendedSeconds == null ? 0 : timings.suspendedSeconds;
    Instant deadline = Instant.parse(timings.bootstrapped).plusSeconds(limits.maxRuntimeSeconds + suspended);
    return Optional.of(Duration.between(ctx.now(), deadline));
  }

  /** The step's wait, cut short so the next look is just past the deadline. */
  static Duration until(Duration wait, Optional<Duration> left) {
    return left.filter(l -> l.plus(AFTER).compareTo(wait) < 0).map(l -> l.isNegative() ? AFTER : l.plus(AFTER)).orElse(wait);
  }
}
