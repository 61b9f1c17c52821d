package dev.trainingjob.operator.status;

import dev.trainingjob.operator.api.AttemptStatus;
import dev.trainingjob.operator.api.CostStatus;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.api.TrainingJobStatus;
import dev.trainingjob.operator.cost.JobPrices;
import dev.trainingjob.operator.cost.Price;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The cost ledger in status.cost: the machine the job holds, priced (with the price's source) from its launch until its
 * release or now, plus what the machines of its earlier attempts cost, and the projected total once progress gives an ETA.
 */
public final class CostEstimate {
  private CostEstimate() {}

  /** The time the current machine has been paid for, and at what price: from launch until release, or until now. */
  public record Billed(String instanceType, Instant from, Instant until, boolean spot, Price price) {
    public double usd() {
      return price.forSeconds(Duration.between(from, until).toMillis() / 1000.0);
    }
  }

  /** What the job's current machine has been billed for so far; empty before a priced machine was launched. */
  public static Optional<Billed> billed(TrainingJob job, JobPrices prices, Instant now) {
    TrainingJobStatus status = job.getStatus();
    var instance = status == null ? null : status.instance;
    if (instance == null || instance.launchedAt == null) {
      return Optional.empty();
    }
    Instant until = status.timings != null && status.timings.released != null ? Instant.parse(status.timings.released) : now;
    Instant from = tenureStart(status);
    return prices.current(job, instance).map(price ->
        new Billed(instance.type, from, until.isBefore(from) ? from : until, Boolean.TRUE.equals(instance.spot), price));
  }

  /**
   * Since when the current run has held its machine: the launch (or, for a machine that stays, when the job got it), or the
   * run's start when the run reuses the machine of the run before (which paid for it until then).
   */
  public static Instant tenureStart(TrainingJobStatus status) {
    Instant launched = Instant.parse(status.instance.launchedAt);
    var run = status.run;
    if (run != null && run.startedAt != null) {
      Instant runStart = Instant.parse(run.startedAt);
      return runStart.isAfter(launched) ? runStart : launched;
    }
    return launched;
  }

  /** An attempt on the current machine within its current tenure (not one before a suspension let go of it). */
  private static boolean thisTenure(AttemptStatus a, String currentId, TrainingJobStatus status) {
    return currentId != null && currentId.equals(a.instanceId) && status.instance.launchedAt != null
        && (a.finishedAt == null || Instant.parse(a.finishedAt).isAfter(tenureStart(status)));
  }

  static double cents(double usd) {
    return Math.round(usd * 100) / 100.0;
  }

  public static String dollars(double usd) {
    return String.format(Locale.ROOT, "$%.2f", usd);
  }

  /**
   * Once the job ended, its last attempt's cost is what is left of its machine's after the attempts before it on the same machine
   * (a retry shares the machine), counted until release: the attempts' costs then add up to status.cost.
   */
  private static void lastAttemptTakesTheRest(TrainingJobStatus status, String currentId, double machineUSD) {
    if (status.phase == null || !status.phase.isFinal() || status.attempts == null || status.attempts.isEmpty() || currentId == null) {
      return;
    }
    var last = status.attempts.get(status.attempts.size() - 1);
    if (!currentId.equals(last.instanceId)) {
      return;
    }
    double before = status.attempts.stream().filter(a -> a != last && thisTenure(a, currentId, status) && a.costUSD != null)
        .mapToDouble(a -> a.costUSD).sum();
    last.costUSD = Math.max(0, cents(machineUSD - before));
  }

  /** Sets status.cost when the machine can be priced; returns what the current machine was billed. */
  public static Optional<Billed> apply(TrainingJob job, JobPrices prices, Instant now) {
    TrainingJobStatus status = job.getStatus();
    if (status.cost != null && Boolean.TRUE.equals(status.cost.complete)) {
      return Optional.empty(); // counted to the release once, at the price then: what budgets settled
    }
    Optional<Billed> billed = billed(job, prices, now);
    String currentId = status.instance == null ? null : status.instance.id;
    billed.ifPresent(b -> lastAttemptTakesTheRest(status, currentId, b.usd()));
    // the machines of earlier attempts (a spot instance interrupted), as status.attempts recorded their cost
    List<AttemptStatus> earlier = status.attempts == null ? List.of()
        : status.attempts.stream().filter(a -> a.costUSD != null && a.instanceId != null && !thisTenure(a, currentId, status)).toList();
    if (billed.isEmpty() && earlier.isEmpty()) {
      return billed;
    }
    CostStatus cost = status.cost == null ? new CostStatus() : status.cost;
    double total = earlier.stream().mapToDouble(a -> a.costUSD).sum() + billed.map(Billed::usd).orElse(0.0);
    boolean upper = billed.map(b -> b.price().upperBound()).orElse(false)
        || earlier.stream().anyMatch(a -> Boolean.TRUE.equals(a.spot) && CostStatus.SOURCE_PRICE_LIST.equals(a.priceSource));
    billed.ifPresent(b -> {
      cost.pricePerHourUSD = b.price().usdPerHour();
      cost.priceSource = b.price().source();
    });
    cost.totalUSD = cents(total);
    cost.upperBound = upper ? Boolean.TRUE : null;
    cost.summary = (upper ? "<=" : "") + dollars(cost.totalUSD);
    projected(status, cost, billed, now);
    boolean released = status.timings != null && status.timings.released != null;
    cost.complete = released && status.phase != null && status.phase.isFinal() ? Boolean.TRUE : null;
    status.cost = cost;
    return billed;
  }

  /** Cost so far plus the time progress says is left at the current price; only while the job runs and has an ETA. */
  private static void projected(TrainingJobStatus status, CostStatus cost, Optional<Billed> billed, Instant now) {
    String eta = status.progress == null ? null : status.progress.eta;
    boolean ended = status.phase != null && status.phase.isFinal();
    if (ended || eta == null || billed.isEmpty() || billed.get().until().isBefore(now)) {
      cost.projectedTotalUSD = ended ? cost.totalUSD : null;
      cost.projected = ended ? cost.summary : null;
      return;
    }
    double left = Math.max(0, Duration.between(now, Instant.parse(eta)).toMillis() / 1000.0);
    cost.projectedTotalUSD = cents(cost.totalUSD + billed.get().price().forSeconds(left));
    cost.projected = dollars(cost.projectedTotalUSD);
  }
}
