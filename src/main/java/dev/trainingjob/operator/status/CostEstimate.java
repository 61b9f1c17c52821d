package dev.trainingjob.operator.status;

import dev.trainingjob.operator.api.TrainingJobStatus;
import dev.trainingjob.operator.cost.PriceList;
import java.time.Instant;
import java.util.Optional;

/**
 * The estimated cost of a job's machine: the price per hour of its type times the time from launch
 * until release (or now, while it still runs).
 */
public final class CostEstimate {
  private CostEstimate() {}

  /** The time the machine has been paid for: from launch until release, or until now. */
  public record Billed(String instanceType, Instant from, Instant until, boolean spot) {}

  /** What the job's machine has been billed for so far; empty before a machine with a known type was launched. */
  public static Optional<Billed> billed(TrainingJobStatus status, Instant now) {
    var instance = status.instance;
    if (instance == null || instance.type == null || instance.launchedAt == null) {
      return Optional.empty();
    }
    Instant until = status.timings != null && status.timings.released != null ? Instant.parse(status.timings.released) : now;
    return Optional.of(new Billed(instance.type, Instant.parse(instance.launchedAt), until, Boolean.TRUE.equals(instance.spot)));
  }

  /** Sets status.cost when the price of the machine's type is known; returns what was billed. */
  public static Optional<Billed> apply(TrainingJobStatus status, PriceList prices, Instant now) {
    Optional<Billed> billed = billed(status, now);
    billed.flatMap(b -> prices.estimate(b.instanceType(), b.spot(), b.from(), b.until())).ifPresent(cost -> status.cost = cost);
    return billed;
  }
}
