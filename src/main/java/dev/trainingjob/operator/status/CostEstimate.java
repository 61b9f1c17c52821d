package dev.trainingjob.operator.status;

import dev.trainingjob.operator.api.AttemptStatus;
import dev.trainingjob.operator.api.CostStatus;
import dev.trainingjob.operator.api.TrainingJobStatus;
import dev.trainingjob.operator.cost.PriceList;
import java.time.Instant;
import java.util.List;
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

  /**
   * Once the job ended, its last attempt's cost is what is left of its machine's after the attempts before it on the same machine
   * (a retry shares the machine), counted until release: the attempts' costs then add up to status.cost.
   */
  private static void lastAttemptTakesTheRest(TrainingJobStatus status, String currentId, Double machineUSD) {
    if (status.phase == null || !status.phase.isFinal() || status.attempts == null || status.attempts.isEmpty() || currentId == null
        || machineUSD == null) {
      return;
    }
    var last = status.attempts.get(status.attempts.size() - 1);
    if (!currentId.equals(last.instanceId)) {
      return;
    }
    double before = status.attempts.stream().filter(a -> a != last && currentId.equals(a.instanceId) && a.costUSD != null)
        .mapToDouble(a -> a.costUSD).sum();
    last.costUSD = Math.max(0, Math.round((machineUSD - before) * 100) / 100.0);
  }

  /** Sets status.cost when the price of the machine's type is known; returns what was billed. */
  public static Optional<Billed> apply(TrainingJobStatus status, PriceList prices, Instant now) {
    Optional<Billed> billed = billed(status, now);
    Optional<CostStatus> current = billed.flatMap(b -> prices.estimate(b.instanceType(), b.spot(), b.from(), b.until()));
    // the machines of earlier attempts (a spot instance interrupted), as status.attempts recorded their cost
    String currentId = status.instance == null ? null : status.instance.id;
    current.ifPresent(c -> lastAttemptTakesTheRest(status, currentId, c.estimatedUSD));
    var earlier = status.attempts == null ? List.<AttemptStatus>of()
        : status.attempts.stream().filter(a -> a.costUSD != null && a.instanceId != null && !a.instanceId.equals(currentId)).toList();
    if (earlier.isEmpty()) {
      current.ifPresent(cost -> status.cost = cost);
      return billed;
    }
    CostStatus total = current.orElseGet(CostStatus::new);
    double sum = earlier.stream().mapToDouble(a -> a.costUSD).sum() + (total.estimatedUSD == null ? 0 : total.estimatedUSD);
    boolean upper = Boolean.TRUE.equals(total.upperBound) || earlier.stream().anyMatch(a -> Boolean.TRUE.equals(a.spot));
    total.estimatedUSD = Math.round(sum * 100) / 100.0;
    total.upperBound = upper ? Boolean.TRUE : null;
    total.summary = (upper ? "<=" : "") + String.format(java.util.Locale.ROOT, "$%.2f", total.estimatedUSD);
    status.cost = total;
    return billed;
  }
}
