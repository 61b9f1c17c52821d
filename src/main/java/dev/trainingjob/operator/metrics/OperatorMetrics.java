package dev.trainingjob.operator.metrics;

import dev.trainingjob.operator.api.Phase;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The operator's own metrics (JOSDK adds its reconciliation metrics to the same registry):
 * jobs by phase, reconcile duration, SSH connect failures, probe latency, and instance time and
 * estimated cost by instance type, and each TrainingBudget's limit, spend and reservations; the JVM's heap, threads and CPU.
 * EC2 API calls are counted by {@code Ec2ApiMetrics}.
 */
public final class OperatorMetrics {
  private final MeterRegistry registry;
  private final Map<String, Phase> phases = new ConcurrentHashMap<>();
  /** Up to when each job's instance time is counted (uid → instant), so no second is counted twice. */
  private final Map<String, Instant> accounted = new ConcurrentHashMap<>();
  private final Instant started = Instant.now();
  /** Each TrainingBudget's figures as last seen, by "namespace/name"; the budget gauges read them. */
  private final Map<String, BudgetFigures> budgets = new ConcurrentHashMap<>();
  /** The gauges of each budget, by "namespace/name", removed with the budget. */
  private final Map<String, List<Gauge>> budgetGauges = new ConcurrentHashMap<>();

  /** One TrainingBudget's figures in USD. */
  public record BudgetFigures(String name, double limitUSD, double spentUSD, double reservedUSD) {}

  /**
   * The quantiles reconcile and probe durations publish (over Micrometer's sliding window, per replica): a slow tail shows
   * without a histogram query.
   */
  private static final double[] PERCENTILES = {0.5, 0.9, 0.99};

  public OperatorMetrics(MeterRegistry registry) {
    this.registry = registry;
    for (Phase phase : Phase.values()) {
      Gauge.builder("trainingjob.jobs", phases, m -> m.values().stream().filter(p -> p == phase).count())
          .tag("phase", phase.name()).description("TrainingJobs by phase").register(registry);
    }
    // what the operator itself costs as jobs grow: heap, threads, CPU (jvm_memory_*, jvm_threads_*, process_cpu_*)
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
  }

  /** Metrics nobody reads (tests that do not look at them). */
  public static OperatorMetrics discarding() {
    return new OperatorMetrics(new SimpleMeterRegistry());
  }

  public MeterRegistry registry() {
    return registry;
  }

  public void phase(String uid, Phase phase) {
    if (phase != null) {
      phases.put(uid, phase);
    }
  }

  public void forget(String uid) {
    phases.remove(uid);
    accounted.remove(uid);
  }

  public Timer.Sample reconcileStarted() {
    return Timer.start(registry);
  }

  public void reconcileFinished(Timer.Sample sample, String outcome) {
    sample.stop(Timer.builder("trainingjob.reconcile.duration").description("Time one reconcile of one job took")
        .tag("outcome", outcome).publishPercentiles(PERCENTILES).register(registry));
  }

  public void sshConnectFailure(String provider) {
    Counter.builder("trainingjob.ssh.connect.failures").description("SSH connections that could not be opened")
        .tag("provider", provider).register(registry).increment();
  }

  public <T> T probe(String provider, Callable<T> probe) throws Exception {
    return Timer.builder("trainingjob.probe.duration").description("Latency of one probe of a job over SSH")
        .tag("provider", provider).publishPercentiles(PERCENTILES).register(registry).recordCallable(probe);
  }

  /**
   * Counts a machine's time from its launch (or from when this process started, or from the last
   * count) until {@code until}, and its estimated cost at {@code hourlyUSD} (null: unpriced).
   */
  public void instanceTime(String uid, String instanceType, Instant launchedAt, Instant until, Double hourlyUSD) {
    Instant from = accounted.getOrDefault(uid, launchedAt.isAfter(started) ? launchedAt : started);
    if (!until.isAfter(from)) {
      return;
    }
    accounted.put(uid, until);
    double seconds = Duration.between(from, until).toMillis() / 1000.0;
    Counter.builder("trainingjob.instance.seconds").description("Machine time of jobs, by instance type")
        .tag("instance_type", instanceType).register(registry).increment(seconds);
    if (hourlyUSD != null) {
      Counter.builder("trainingjob.estimated.cost.usd").description("Estimated machine cost of jobs in USD, by instance type")
          .tag("instance_type", instanceType).register(registry).increment(seconds / 3600 * hourlyUSD);
    }
  }

  /**
   * The TrainingBudgets of a namespace as they are now: gauges trainingjob_budget_{limit,spent,reserved}_usd{namespace,budget}
   * for each, and none any more for a budget no longer listed.
   */
  public synchronized void budgets(String namespace, List<BudgetFigures> now) {
    Set<String> listed = new HashSet<>();
    for (BudgetFigures f : now) {
      String key = namespace + "/" + f.name();
      listed.add(key);
      budgets.put(key, f);
      budgetGauges.computeIfAbsent(key, k -> List.of(
          budgetGauge("trainingjob.budget.limit.usd", "The spec.limitUSD of each TrainingBudget", namespace, f.name(), key,
              BudgetFigures::limitUSD),
          budgetGauge("trainingjob.budget.spent.usd", "What the jobs that ended cost in the TrainingBudget's current period", namespace,
              f.name(), key, BudgetFigures::spentUSD),
          budgetGauge("trainingjob.budget.reserved.usd", "The worst cases of the admitted jobs that have not ended, per TrainingBudget",
              namespace, f.name(), key, BudgetFigures::reservedUSD)));
    }
    for (String key : new ArrayList<>(budgetGauges.keySet())) {
      if (key.startsWith(namespace + "/") && !listed.contains(key)) {
        budgetGauges.remove(key).forEach(registry::remove);
        budgets.remove(key);
      }
    }
  }

  private Gauge budgetGauge(String name, String description, String namespace, String budget, String key,
      java.util.function.ToDoubleFunction<BudgetFigures> value) {
    return Gauge.builder(name, budgets, m -> {
      BudgetFigures f = m.get(key);
      return f == null ? Double.NaN : value.applyAsDouble(f);
    }).tag("namespace", namespace).tag("budget", budget).description(description).register(registry);
  }
}
