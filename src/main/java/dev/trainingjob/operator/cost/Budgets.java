package dev.trainingjob.operator.cost;

import dev.trainingjob.operator.api.BudgetReservation;
import dev.trainingjob.operator.api.TrainingBudget;
import dev.trainingjob.operator.api.TrainingBudgetSpec;
import dev.trainingjob.operator.api.TrainingBudgetStatus;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * The arithmetic of a TrainingBudget's ledger, on the object in memory (whoever calls it writes it): periods, reservations,
 * settlements, and the figures derived from them. Amounts are kept in whole cents.
 */
public final class Budgets {
  /** Less than a cent: two amounts this close are equal. */
  private static final double EPSILON = 0.000001;

  private Budgets() {}

  /** The budget's status, made on first use. */
  public static TrainingBudgetStatus status(TrainingBudget budget) {
    if (budget.getStatus() == null) {
      budget.setStatus(new TrainingBudgetStatus());
    }
    if (budget.getStatus().reservations == null) {
      budget.getStatus().reservations = new ArrayList<>();
    }
    return budget.getStatus();
  }

  public static double limit(TrainingBudget budget) {
    return budget.getSpec() == null || budget.getSpec().limitUSD == null ? 0 : budget.getSpec().limitUSD;
  }

  public static double spent(TrainingBudget budget) {
    Double spent = budget.getStatus() == null ? null : budget.getStatus().spentUSD;
    return spent == null ? 0 : spent;
  }

  public static double reserved(TrainingBudget budget) {
    return status(budget).reservations.stream().mapToDouble(r -> r.usd == null ? 0 : r.usd).sum();
  }

  /** limit − spent − reserved. */
  public static double remaining(TrainingBudget budget) {
    return cents(limit(budget) - spent(budget) - reserved(budget));
  }

  /** Whether {@code usd} fits in what remains; never in a budget whose spec cannot be read. */
  public static boolean fits(TrainingBudget budget, double usd) {
    return unreadable(budget).isEmpty() && cents(usd) <= remaining(budget) + EPSILON;
  }

  /** Why the budget's stored spec cannot be read (a field the schema would refuse); empty when it can. */
  public static Optional<String> unreadable(TrainingBudget budget) {
    return Optional.ofNullable(budget.getSpec() == null ? null : budget.getSpec().unreadable);
  }

  /** The first instant of the month {@code now} is in (UTC). */
  public static Instant monthStart(Instant now) {
    return LocalDate.ofInstant(now, ZoneOffset.UTC).withDayOfMonth(1).atStartOfDay(ZoneOffset.UTC).toInstant();
  }

  /** The first instant of the next month (UTC): when a Monthly budget starts its next period. */
  public static Instant nextMonthStart(Instant now) {
    return LocalDate.ofInstant(now, ZoneOffset.UTC).withDayOfMonth(1).plusMonths(1).atStartOfDay(ZoneOffset.UTC).toInstant();
  }

  /**
   * Starts the current period when it has not started yet: a Monthly budget whose period began before this month's first
   * day (UTC) counts from that day with nothing spent; reservations stay. A budget without a period gets one.
   *
   * @return true when the status changed
   */
  public static boolean rollOver(TrainingBudget budget, Instant now) {
    TrainingBudgetStatus status = status(budget);
    TrainingBudgetSpec.Period period = budget.getSpec() == null ? TrainingBudgetSpec.Period.Monthly : budget.getSpec().periodOrDefault();
    Instant start = status.periodStart == null ? null : parse(status.periodStart);
    if (period == TrainingBudgetSpec.Period.Total) {
      if (start != null) {
        return false;
      }
      String created = budget.getMetadata().getCreationTimestamp();
      status.periodStart = created != null && parse(created) != null ? created : now.toString();
      return true;
    }
    Instant month = monthStart(now);
    if (start != null && !start.isBefore(month)) {
      return false;
    }
    if (start != null) {
      status.spentUSD = 0.0; // a new month: what was spent in the last one no longer counts
    }
    status.periodStart = month.toString();
    return true;
  }

  public static Optional<BudgetReservation> reservation(TrainingBudget budget, String uid) {
    return status(budget).reservations.stream().filter(r -> Objects.equals(r.uid, uid)).findFirst();
  }

  /** Holds {@code usd} for the job (once: a second call for the same uid changes nothing). */
  public static void reserve(TrainingBudget budget, String job, String uid, double usd, Instant now) {
    if (reservation(budget, uid).isEmpty()) {
      status(budget).reservations.add(new BudgetReservation(job, uid, cents(usd), now.toString()));
    }
  }

  /** Drops the job's reservation without counting anything (a job that waits again, or that no longer exists). */
  public static boolean release(TrainingBudget budget, String uid) {
    return status(budget).reservations.removeIf(r -> Objects.equals(r.uid, uid));
  }

  /**
   * Replaces the job's reservation with its actual cost, in the current period. A budget without the job's reservation
   * was settled already (or never held the job): nothing changes.
   *
   * @return true when the job was settled now
   */
  public static boolean settle(TrainingBudget budget, String uid, double actualUSD) {
    if (!release(budget, uid)) {
      return false;
    }
    status(budget).spentUSD = cents(spent(budget) + Math.max(0, actualUSD));
    return true;
  }

  /** Brings the derived figures (reserved, remaining, what kubectl shows) in line with the reservations and the spec. */
  public static void refresh(TrainingBudget budget) {
    TrainingBudgetStatus status = status(budget);
    status.spentUSD = cents(spent(budget));
    status.reservedUSD = cents(reserved(budget));
    status.remainingUSD = remaining(budget);
    status.observedGeneration = budget.getMetadata().getGeneration();
    TrainingBudgetStatus.Shown shown = new TrainingBudgetStatus.Shown();
    shown.limit = dollars(limit(budget));
    shown.spent = dollars(status.spentUSD);
    shown.reserved = dollars(status.reservedUSD);
    shown.remaining = dollars(status.remainingUSD);
    status.shown = shown;
  }

  public static double cents(double usd) {
    return Math.round(usd * 100) / 100.0;
  }

  /** $1.23; a negative amount as -$1.23 (a budget whose limit was lowered below what it holds). */
  public static String dollars(double usd) {
    return (usd < 0 ? "-" : "") + String.format(Locale.ROOT, "$%.2f", Math.abs(usd));
  }

  private static Instant parse(String time) {
    try {
      return Instant.parse(time);
    } catch (RuntimeException unreadable) {
      return null; // written by hand: counted as no period at all, so a new one starts
    }
  }
}
