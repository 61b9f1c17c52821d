package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.TrainingBudget;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.cost.Budgets;
import dev.trainingjob.operator.metrics.OperatorMetrics;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TrainingBudgets of a namespace as one ledger: admitting a job (its worst case reserved in every budget, or none),
 * settling it (the reservation replaced by the actual cost), and keeping each budget's figures current.
 *
 * <p>Race-free twice over: within this operator every decision about a namespace's budgets is taken under that namespace's
 * lock (JOSDK reconciles several jobs at once), and every write is a status update checked against the resourceVersion read,
 * so a write based on figures someone else changed meanwhile (another replica, a person editing the budget) is refused with
 * 409 and the decision is taken again from fresh figures. Idempotent across a crash at any line: a budget that holds a
 * reservation for the job's uid admitted it; one that does not hold it any more settled it.
 */
public final class BudgetLedger {
  private static final Logger LOG = LoggerFactory.getLogger(BudgetLedger.class);
  /** Decisions taken again after a conflict before JOSDK's retry takes over. */
  private static final int ATTEMPTS = 10;

  /** What admission found. */
  public sealed interface Admission permits NoBudgets, Admitted, Waiting {}

  /** The namespace has no TrainingBudget: jobs are admitted as they always were. */
  public record NoBudgets() implements Admission {}

  /** The worst case is reserved in every budget of the namespace (by this call, or by an earlier one). */
  public record Admitted(double usd, List<String> budgets) implements Admission {}

  /**
   * A budget has no room: nothing is reserved anywhere for the job.
   *
   * @param budget the first budget (by name) the worst case does not fit in
   * @param remaining what remains in it
   */
  public record Waiting(TrainingBudget budget, double remaining) implements Admission {}

  /** The namespace has budgets, but the job has no worst case to reserve. */
  public static final class Unbounded extends RuntimeException {
    private final List<String> budgets;

    Unbounded(List<String> budgets) {
      super("unbounded job under TrainingBudgets " + budgets);
      this.budgets = budgets;
    }

    public List<String> budgets() {
      return budgets;
    }
  }

  private static final class Conflict extends RuntimeException {
    Conflict(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private final KubernetesClient client;
  private final Clock clock;
  private final OperatorMetrics metrics;
  private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
  /** Whether the operator's informer knows of a budget in a namespace; null: no informer, ask the API each time. */
  private volatile Predicate<String> informerHasBudgets;

  /** {@code client} null: an operator without budgets (tests of other things). */
  public BudgetLedger(KubernetesClient client, Clock clock, OperatorMetrics metrics) {
    this.client = client;
    this.clock = clock;
    this.metrics = metrics;
  }

  /**
   * The operator's informer of TrainingBudgets, for {@link #settle}: a job that was admitted against no budget
   * ({@code status.budget} unset) and whose namespace the informer knows no budget in has no reservation anywhere, and
   * its settlement needs no LIST. A job that reserved always asks the API: it may end a moment after a budget applied
   * together with it was found by its admission, before the informer has that budget. Admission always asks the API too,
   * for the same reason.
   */
  public void knowBudgetsFrom(Predicate<String> namespaceHasBudgets) {
    this.informerHasBudgets = namespaceHasBudgets;
  }

  /** A ledger that sees no budget anywhere. */
  public static BudgetLedger none() {
    return new BudgetLedger(null, Clock.systemUTC(), OperatorMetrics.discarding());
  }

  /**
   * Admits the job when its worst case fits what remains in every budget of its namespace, and records the reservation in
   * each. A job that does not fit holds nothing: a reservation an interrupted earlier call made in some budgets is dropped.
   *
   * @param worstCase the job's worst case in USD; empty when it has none (then {@link Unbounded} if there are budgets)
   */
  public Admission admit(TrainingJob job, OptionalDouble worstCase) {
    String namespace = job.getMetadata().getNamespace();
    String uid = job.getMetadata().getUid();
    if (noBudgets(namespace)) {
      return new NoBudgets();
    }
    return decide(namespace, () -> {
      List<TrainingBudget> budgets = list(namespace);
      try {
        if (budgets.isEmpty()) {
          return new NoBudgets();
        }
        budgets.forEach(b -> Budgets.rollOver(b, clock.instant()));
        List<TrainingBudget> holding = budgets.stream().filter(b -> Budgets.reservation(b, uid).isPresent()).toList();
        if (holding.size() == budgets.size()) {
          // admitted before (this operator crashed, or its status write was lost, after the reservations were made)
          double usd = Budgets.reservation(holding.get(0), uid).orElseThrow().usd;
          return new Admitted(usd, names(budgets));
        }
        if (worstCase.isEmpty()) {
          releaseAll(holding, uid);
          throw new Unbounded(names(budgets));
        }
        double usd = worstCase.getAsDouble();
        Optional<TrainingBudget> full = firstFull(budgets, uid, usd);
        if (full.isPresent() && dropGoneJobs(namespace, budgets)) {
          full = firstFull(budgets, uid, usd); // a job deleted without settling (its finalizer removed by hand) held room
        }
        if (full.isPresent()) {
          releaseAll(holding, uid); // a waiting job holds nothing
          return new Waiting(full.get(), Budgets.remaining(full.get()));
        }
        for (TrainingBudget b : budgets) {
          if (Budgets.reservation(b, uid).isEmpty()) {
            Budgets.reserve(b, job.getMetadata().getName(), uid, usd, clock.instant());
            write(b);
          }
        }
        return new Admitted(Budgets.cents(usd), names(budgets));
      } finally {
        metrics.budgets(namespace, figures(budgets));
      }
    });
  }

  private static Optional<TrainingBudget> firstFull(List<TrainingBudget> budgets, String uid, double usd) {
    return budgets.stream().filter(b -> Budgets.reservation(b, uid).isEmpty()).filter(b -> !Budgets.fits(b, usd)).findFirst();
  }

  /**
   * Drops the reservations of jobs that no longer exist (deleted while no operator ran, or with their finalizer removed by
   * hand): a waiting job must not wait for room nobody holds. True when any was dropped (and written).
   */
  private boolean dropGoneJobs(String namespace, List<TrainingBudget> budgets) {
    if (budgets.stream().allMatch(b -> Budgets.status(b).reservations.isEmpty())) {
      return false;
    }
    Set<String> jobs = liveJobs(namespace);
    boolean dropped = false;
    for (TrainingBudget b : budgets) {
      if (removeGone(b, jobs)) {
        write(b);
        dropped = true;
      }
    }
    return dropped;
  }

  private Set<String> liveJobs(String namespace) {
    return client.resources(TrainingJob.class).inNamespace(namespace).list().getItems().stream()
        .map(j -> j.getMetadata().getUid()).collect(Collectors.toSet());
  }

  /** Removes from the budget the reservations of jobs not in {@code live}; true when there were any. */
  private static boolean removeGone(TrainingBudget budget, Set<String> live) {
    return Budgets.status(budget).reservations.removeIf(r -> {
      boolean gone = !live.contains(r.uid);
      if (gone) {
        LOG.info("TrainingBudget {}: dropped the reservation of {} ({}), a job that no longer exists", budget.ref(), r.job,
            Budgets.dollars(r.usd == null ? 0 : r.usd));
      }
      return gone;
    });
  }

  /**
   * Replaces the job's reservation in every budget of its namespace with its actual cost, counted in the current period.
   * Budgets that do not hold the job's reservation are left alone (settled before, or never holding it).
   *
   * @return the budgets that settled the job in this call
   */
  public List<String> settle(TrainingJob job, double actualUSD) {
    if (client == null) {
      return List.of();
    }
    String namespace = job.getMetadata().getNamespace();
    String uid = job.getMetadata().getUid();
    Predicate<String> informer = informerHasBudgets;
    boolean reserved = job.getStatus() != null && job.getStatus().budget != null;
    if (!reserved && informer != null && !informer.test(namespace)) {
      return List.of(); // never admitted against a budget, and the namespace has none the informer knows of
    }
    if (noBudgets(namespace)) {
      return List.of();
    }
    return decide(namespace, () -> {
      List<TrainingBudget> budgets = list(namespace);
      List<String> settled = new ArrayList<>();
      try {
        for (TrainingBudget b : budgets) {
          Budgets.rollOver(b, clock.instant());
          if (Budgets.settle(b, uid, actualUSD)) {
            write(b);
            settled.add(b.getMetadata().getName());
          }
        }
      } finally {
        metrics.budgets(namespace, figures(budgets));
      }
      if (!settled.isEmpty()) {
        LOG.info("{}: settled at {} in TrainingBudgets {}", job.ref(), Budgets.dollars(actualUSD), settled);
      }
      return settled;
    });
  }

  /**
   * Keeps one budget's figures current: its period (a new month), remaining after a change of limitUSD, and no reservation
   * of a job that no longer exists (deleted while no operator ran). Written only when something changed.
   *
   * @return the budget as it is now; empty when it no longer exists
   */
  public Optional<TrainingBudget> tidy(String namespace, String name) {
    if (client == null) {
      return Optional.empty();
    }
    return decide(namespace, () -> {
      TrainingBudget budget = client.resources(TrainingBudget.class).inNamespace(namespace).withName(name).get();
      List<TrainingBudget> budgets = list(namespace);
      try {
        if (budget == null) {
          return Optional.<TrainingBudget>empty();
        }
        String before = client.getKubernetesSerialization().asJson(budget.getStatus());
        Budgets.rollOver(budget, clock.instant());
        if (!Budgets.status(budget).reservations.isEmpty()) {
          removeGone(budget, liveJobs(namespace));
        }
        Budgets.refresh(budget);
        if (!before.equals(client.getKubernetesSerialization().asJson(budget.getStatus()))) {
          write(budget);
        }
        budgets.replaceAll(b -> b.getMetadata().getName().equals(name) ? budget : b);
        return Optional.of(budget);
      } finally {
        metrics.budgets(namespace, figures(budgets));
      }
    });
  }

  /** The namespace's budgets as they are now (from the API, not a cache), by name. */
  List<TrainingBudget> list(String namespace) {
    if (client == null) {
      return new ArrayList<>();
    }
    try {
      List<TrainingBudget> budgets = new ArrayList<>(client.resources(TrainingBudget.class).inNamespace(namespace).list().getItems());
      budgets.sort(Comparator.comparing(b -> b.getMetadata().getName()));
      return budgets;
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return new ArrayList<>(); // the TrainingBudget CRD is not installed: no namespace has a budget
      }
      throw e;
    }
  }

  /**
   * Whether the namespace has no TrainingBudget now: then there is nothing to decide, and no lock is taken. The namespace's
   * lock orders this operator's own writes to its budgets, and a namespace without budgets has none to write, so its jobs
   * are admitted and settled side by side (a burst of hundreds queued on that one lock, each holding it across a LIST, and
   * the reconcile threads with them). A budget made meanwhile is found by the next job's look, as it would be with the lock.
   */
  private boolean noBudgets(String namespace) {
    List<TrainingBudget> budgets = list(namespace);
    if (budgets.isEmpty()) {
      metrics.budgets(namespace, List.of());
      return true;
    }
    return false;
  }

  /** The namespace's lock (a test holds it, as a decision in progress would). */
  ReentrantLock lockOf(String namespace) {
    return locks.computeIfAbsent(namespace, n -> new ReentrantLock());
  }

  /** Runs a decision under the namespace's lock, again from fresh figures after a conflict. */
  private <T> T decide(String namespace, Supplier<T> decision) {
    ReentrantLock lock = lockOf(namespace);
    lock.lock();
    try {
      Conflict last = null;
      for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
        try {
          return decision.get();
        } catch (Conflict conflict) {
          last = conflict;
          LOG.debug("{} (attempt {}): taking the decision again", conflict.getMessage(), attempt);
        }
      }
      throw new IllegalStateException("the TrainingBudgets of namespace " + namespace + " kept changing while the operator "
          + "wrote them; trying again later", last);
    } finally {
      lock.unlock();
    }
  }

  /** A status update checked against the resourceVersion read: a conflict (409) or a budget gone (404) means decide again. */
  private void write(TrainingBudget budget) {
    Budgets.refresh(budget);
    try {
      TrainingBudget written = client.resources(TrainingBudget.class).inNamespace(budget.getMetadata().getNamespace())
          .resource(budget).updateStatus();
      budget.getMetadata().setResourceVersion(written.getMetadata().getResourceVersion());
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409 || e.getCode() == 404) {
        throw new Conflict("TrainingBudget " + budget.ref() + " changed while the operator wrote it (" + e.getCode() + ")", e);
      }
      throw e;
    }
  }

  private void releaseAll(List<TrainingBudget> holding, String uid) {
    for (TrainingBudget b : holding) {
      Budgets.release(b, uid);
      write(b);
    }
  }

  private static List<String> names(List<TrainingBudget> budgets) {
    return budgets.stream().map(b -> b.getMetadata().getName()).toList();
  }

  private static List<OperatorMetrics.BudgetFigures> figures(List<TrainingBudget> budgets) {
    return budgets.stream().map(b -> new OperatorMetrics.BudgetFigures(b.getMetadata().getName(), Budgets.limit(b),
        Budgets.spent(b), Budgets.reserved(b))).toList();
  }
}
