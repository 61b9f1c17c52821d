package dev.trainingjob.operator.reconciler;

import java.time.Instant;

/**
 * The estimated cost of a job's machine in status, and the instance-time and cost metrics: the
 * price per hour of its type times the time from launch until release (or now).
 */
final class MachineCost {
  private MachineCost() {}

  static void apply(JobContext ctx) {
    var status = ctx.status();
    var instance = status.instance;
    if (instance == null || instance.type == null || instance.launchedAt == null) {
      return;
    }
    Instant launched = Instant.parse(instance.launchedAt);
    Instant until = status.timings != null && status.timings.released != null ? Instant.parse(status.timings.released) : ctx.now();
    boolean spot = Boolean.TRUE.equals(instance.spot);
    ctx.prices().estimate(instance.type, spot, launched, until).ifPresent(cost -> status.cost = cost);
    ctx.metrics().instanceTime(ctx.job().getMetadata().getUid(), instance.type, launched, until,
        ctx.prices().hourly(instance.type).orElse(null));
  }
}
