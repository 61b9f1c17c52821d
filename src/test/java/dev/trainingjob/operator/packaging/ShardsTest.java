package dev.trainingjob.operator.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.OperatorRuntime;
import dev.trainingjob.operator.api.ComputeSpec;
import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.LimitsSpec;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.Shard;
import dev.trainingjob.operator.api.TrainingBudget;
import dev.trainingjob.operator.api.TrainingBudgetSpec;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.embedded.EmbeddedKubernetes;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.status.Conditions;
import dev.trainingjob.operator.support.Jobs;
import dev.trainingjob.operator.support.RecordingProvider;
import dev.trainingjob.operator.support.ScriptedRemoteHosts;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.DoubleAccumulator;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two operator shards against one API, as the chart installs them: the default one (jobs without the label
 * trainingjob.dev/shard) and "gpu" (jobs labelled gpu), each with its own leader election. Every job is reconciled by
 * exactly one of them, a job relabelled after it was taken is left alone by the shard it now names, and the two admit jobs
 * of one namespace under one TrainingBudget without ever reserving more than it allows.
 */
class ShardsTest {
  static final String NS = "default";
  static final Duration WAIT = Duration.ofSeconds(60);

  final EmbeddedKubernetes api = new EmbeddedKubernetes().start(0);
  final List<AutoCloseable> started = new ArrayList<>();

  /** One shard: its own client (its requests carry the shard's name as User-Agent), provider and machines. */
  record Operator(String agent, RecordingProvider provider, ScriptedRemoteHosts remote, OperatorRuntime runtime) {}

  Operator start(String shard) {
    OperatorConfig config = OperatorConfig.defaults().with(c -> {
      c.shard = shard;
      c.defaultProvider = "local";
      c.pollInterval = c.probeInterval = Duration.ofMillis(200);
      c.metricsPort = -1;
      c.leaderElection.enabled = true;
      c.leaderElection.leaseNamespace = NS;
      c.leaderElection.identity = "pod-of-" + Shard.named(shard);
      c.leaderElection.leaseDuration = Duration.ofSeconds(3);
      c.leaderElection.renewDeadline = Duration.ofSeconds(2);
      c.leaderElection.retryPeriod = Duration.ofMillis(500);
      c.leaderElection.exitOnStopLeading = false;
    });
    String agent = "shard-" + Shard.named(shard);
    KubernetesClient client = api.newClient(agent);
    started.add(client);
    RecordingProvider provider = new RecordingProvider("local");
    ScriptedRemoteHosts remote = new ScriptedRemoteHosts();
    OperatorRuntime runtime = OperatorRuntime.start(client, config, List.of(provider), remote, List.of());
    started.add(0, runtime);
    return new Operator(agent, provider, remote, runtime);
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : started) {
      c.close();
    }
    api.close();
  }

  static TrainingJob job(String namespace, String name, String shard) {
    TrainingJob job = Jobs.simple(name);
    job.getMetadata().setNamespace(namespace);
    if (shard != null) {
      job.getMetadata().setLabels(new java.util.HashMap<>(java.util.Map.of(Shard.LABEL, shard)));
    }
    return job;
  }

  TrainingJob create(TrainingJob job) {
    return api.client().resource(job).create();
  }

  TrainingJob get(String namespace, String name) {
    return api.client().resources(TrainingJob.class).inNamespace(namespace).withName(name).get();
  }

  Phase phase(String namespace, String name) {
    TrainingJob job = get(namespace, name);
    return job == null || job.getStatus() == null ? null : job.getStatus().phase;
  }

  boolean endedAndReleased(String namespace, String name) {
    TrainingJob job = get(namespace, name);
    return job != null && job.getStatus() != null && job.getStatus().phase == Phase.Succeeded
        && Conditions.isTrue(job.getStatus(), ConditionType.RELEASED);
  }

  /** Who wrote the job (its status, its finalizer): the User-Agents of every PUT and PATCH on it. */
  Set<String> writers(String namespace, String name) {
    String path = "/namespaces/" + namespace + "/trainingjobs/" + name;
    return api.requests(r -> ("PUT".equals(r.method()) || "PATCH".equals(r.method()))
        && r.path().replaceFirst("\\?.*$", "").replaceFirst("/status$", "").endsWith(path))
        .stream().map(EmbeddedKubernetes.Request::userAgent).collect(Collectors.toSet());
  }

  List<String> eventMessages(String name, Reason reason) {
    return api.client().v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()) && reason.name().equals(e.getReason()))
        .map(e -> e.getMessage()).toList();
  }

  @Test
  void everyJobIsReconciledByTheOneShardItsLabelNames() {
    Operator plain = start(null);
    Operator gpu = start("gpu");
    await().atMost(WAIT).until(() -> plain.runtime().leadership().isLeading() && gpu.runtime().leadership().isLeading());
    // each shard elects its leader in a Lease of its own: both lead at once
    assertThat(api.client().leases().inNamespace(NS).withName("trainingjob-operator").get().getSpec().getHolderIdentity())
        .isEqualTo("pod-of-default");
    assertThat(api.client().leases().inNamespace(NS).withName("trainingjob-operator-gpu").get().getSpec().getHolderIdentity())
        .isEqualTo("pod-of-gpu");

    List<String> unlabelled = List.of("plain-1", "plain-2", "plain-3");
    List<String> labelled = List.of("gpu-1", "gpu-2", "gpu-3");
    unlabelled.forEach(n -> create(job(NS, n, null)));
    labelled.forEach(n -> create(job(NS, n, "gpu")));
    // no shard is called tpu: nothing takes this one
    create(job(NS, "tpu-1", "tpu"));

    List<String> all = Stream.concat(unlabelled.stream(), labelled.stream()).toList();
    await().atMost(WAIT).until(() -> all.stream().allMatch(n -> endedAndReleased(NS, n)));
    all.forEach(n -> api.client().resource(get(NS, n)).delete());
    await().atMost(WAIT).until(() -> all.stream().allMatch(n -> get(NS, n) == null));

    for (String n : unlabelled) {
      assertThat(writers(NS, n)).as(n + " written by").containsExactly(plain.agent());
      assertThat(plain.provider().count(NS + "/" + n, "release")).as(n).isPositive();
      assertThat(gpu.provider().calls(NS + "/" + n)).as(n + " in the gpu shard").isEmpty();
      assertThat(gpu.remote().methods(NS + "/" + n)).isEmpty();
    }
    for (String n : labelled) {
      assertThat(writers(NS, n)).as(n + " written by").containsExactly(gpu.agent());
      assertThat(gpu.provider().count(NS + "/" + n, "release")).as(n).isPositive();
      assertThat(plain.provider().calls(NS + "/" + n)).as(n + " in the default shard").isEmpty();
      assertThat(plain.remote().methods(NS + "/" + n)).isEmpty();
    }

    // the job for a shard that does not run has waited untouched all along: no status, no finalizer, no machine
    TrainingJob orphan = get(NS, "tpu-1");
    assertThat(orphan.getStatus()).isNull();
    assertThat(orphan.getMetadata().getFinalizers()).isEmpty();
    assertThat(writers(NS, "tpu-1")).isEmpty();
    assertThat(plain.provider().calls(NS + "/tpu-1")).isEmpty();
    assertThat(gpu.provider().calls(NS + "/tpu-1")).isEmpty();
  }

  @Test
  void aJobRelabelledAfterItWasTakenIsLeftAloneUntilItsLabelNamesItsShardAgain() {
    Operator plain = start(null);
    Operator gpu = start("gpu");
    plain.remote().runningProbes = Integer.MAX_VALUE; // it runs until the test is over
    create(job(NS, "moves", null));
    await().atMost(WAIT).until(() -> phase(NS, "moves") == Phase.Running);
    assertThat(get(NS, "moves").getStatus().shard).isEqualTo(Shard.DEFAULT);

    relabel("moves", "gpu");
    await().atMost(WAIT).until(() -> !eventMessages("moves", Reason.ShardChanged).isEmpty());
    assertThat(eventMessages("moves", Reason.ShardChanged).get(0)).contains("Shard default took this job")
        .contains("labelled for shard gpu").contains("the label trainingjob.dev/shard is removed again");
    TrainingJob moved = get(NS, "moves");
    assertThat(moved.getStatus().shard).as("still the default shard's").isEqualTo(Shard.DEFAULT);
    assertThat(moved.getStatus().phase).isEqualTo(Phase.Running);
    assertThat(gpu.provider().calls(NS + "/moves")).as("no second machine, no release of the first").isEmpty();
    assertThat(gpu.remote().methods(NS + "/moves")).isEmpty();

    // deleted while it names the wrong shard: the machine is not that shard's to release, so the job stays
    api.client().resource(moved).delete();
    await().atMost(WAIT).until(() -> eventMessages("moves", Reason.ShardChanged).stream().anyMatch(m -> m.contains("releases")));
    assertThat(get(NS, "moves")).as("held by its finalizer").isNotNull();
    assertThat(plain.provider().count(NS + "/moves", "release")).isZero();
    assertThat(gpu.provider().calls(NS + "/moves")).isEmpty();

    // the label back: the default shard sees the job again, deleted, and releases its machine
    relabel("moves", null);
    await().atMost(WAIT).until(() -> get(NS, "moves") == null);
    assertThat(plain.provider().count(NS + "/moves", "release")).isPositive();
    assertThat(gpu.provider().calls(NS + "/moves")).isEmpty();
    assertThat(writers(NS, "moves")).doesNotContain(gpu.agent());
  }

  private void relabel(String name, String shard) {
    api.client().resources(TrainingJob.class).inNamespace(NS).withName(name).edit(j -> {
      var labels = j.getMetadata().getLabels() == null ? new java.util.HashMap<String, String>()
          : new java.util.HashMap<>(j.getMetadata().getLabels());
      if (shard == null) {
        labels.remove(Shard.LABEL);
      } else {
        labels.put(Shard.LABEL, shard);
      }
      j.getMetadata().setLabels(labels);
      return j;
    });
  }

  /**
   * Room for three $1 jobs ($3.50), six asked for at once, three by each shard: the budget's reservations never pass what
   * it allows, however the shards' admissions interleave, and the jobs that waited run once the first ones are settled.
   */
  @Test
  void twoShardsAdmittingInOneNamespaceNeverReserveMoreThanItsBudget() throws Exception {
    String ns = "team";
    TrainingBudget budget = new TrainingBudget();
    budget.setMetadata(new ObjectMetaBuilder().withName("monthly").withNamespace(ns).build());
    budget.setSpec(new TrainingBudgetSpec());
    budget.getSpec().limitUSD = 3.5;
    api.client().resource(budget).create();
    DoubleAccumulator mostHeld = new DoubleAccumulator(Math::max, 0);
    try (Watch watch = api.client().resources(TrainingBudget.class).inNamespace(ns).watch(new Watcher<>() {
      @Override
      public void eventReceived(Action action, TrainingBudget b) {
        if (b.getStatus() != null) {
          mostHeld.accumulate(nullToZero(b.getStatus().reservedUSD) + nullToZero(b.getStatus().spentUSD));
        }
      }

      @Override
      public void onClose(WatcherException cause) {
      }
    })) {
      Operator plain = start(null);
      Operator gpu = start("gpu");
      // the admitted jobs run until every job has been looked at
      plain.remote().runningProbes = Integer.MAX_VALUE;
      gpu.remote().runningProbes = Integer.MAX_VALUE;
      await().atMost(WAIT).until(() -> plain.runtime().leadership().isLeading() && gpu.runtime().leadership().isLeading());

      List<String> names = new ArrayList<>();
      for (int i = 1; i <= 3; i++) {
        names.add("plain-" + i);
        names.add("gpu-" + i);
      }
      names.parallelStream().forEach(n -> create(boundedJob(ns, n, n.startsWith("gpu") ? "gpu" : null)));

      // three run, and the other three wait for room, whichever shard each is in
      await().atMost(WAIT).until(() -> names.stream().filter(n -> waiting(ns, n)).count() == 3
          && names.stream().filter(n -> phase(ns, n) == Phase.Running).count() == 3);
      TrainingBudget running = api.client().resources(TrainingBudget.class).inNamespace(ns).withName("monthly").get();
      assertThat(running.getStatus().reservedUSD).as("reserved while they run").isEqualTo(3.0);
      assertThat(running.getStatus().reservations).hasSize(3);

      // the three end, are settled, and the three that waited run in their turn
      plain.remote().runningProbes = 3;
      gpu.remote().runningProbes = 3;
      await().atMost(WAIT).until(() -> names.stream().allMatch(n -> endedAndReleased(ns, n) && settled(ns, n)));

      assertThat(mostHeld.get()).as("reserved plus spent, at any moment").isLessThanOrEqualTo(3.5);
      var waited = names.stream().filter(n -> Conditions.find(get(ns, n).getStatus(), ConditionType.BUDGET_EXHAUSTED) != null).toList();
      assertThat(waited).as("jobs that waited for room").hasSize(3);
      for (String n : names) {
        Operator owner = n.startsWith("gpu") ? gpu : plain;
        Operator other = owner == gpu ? plain : gpu;
        assertThat(owner.provider().launches(get(ns, n))).as(n + " launched once").isEqualTo(1);
        assertThat(other.provider().calls(ns + "/" + n)).isEmpty();
      }
      TrainingBudget after = api.client().resources(TrainingBudget.class).inNamespace(ns).withName("monthly").get();
      assertThat(after.getStatus().reservations).isEmpty();
      double spent = names.stream().mapToDouble(n -> get(ns, n).getStatus().cost.totalUSD).sum();
      assertThat(after.getStatus().spentUSD).isCloseTo(spent, org.assertj.core.data.Offset.offset(0.01));
    }
  }

  /**
   * TrainingBudgets belong to no shard: their own reconciler (a new budget's figures, a changed limit) runs in the default
   * shard alone, so shards do not both write every budget; each shard writes a budget only to admit and settle its jobs.
   */
  @Test
  void theDefaultShardAloneKeepsTheBudgetsFigures() {
    Operator plain = start(null);
    Operator gpu = start("gpu");
    await().atMost(WAIT).until(() -> plain.runtime().leadership().isLeading() && gpu.runtime().leadership().isLeading());
    List<String> budgets = List.of("a", "b", "c");
    for (String name : budgets) {
      TrainingBudget budget = new TrainingBudget();
      budget.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("solo").build());
      budget.setSpec(new TrainingBudgetSpec());
      budget.getSpec().limitUSD = 10.0;
      api.client().resource(budget).create();
    }
    await().atMost(WAIT).until(() -> budgets.stream().allMatch(n -> remaining("solo", n) != null && remaining("solo", n) == 10.0));
    api.client().resources(TrainingBudget.class).inNamespace("solo").withName("a").edit(b -> {
      b.getSpec().limitUSD = 20.0;
      return b;
    });
    await().atMost(WAIT).until(() -> remaining("solo", "a") == 20.0);

    var writers = api.requests(r -> ("PUT".equals(r.method()) || "PATCH".equals(r.method()))
        && r.path().contains("/namespaces/solo/trainingbudgets/") && r.path().contains("/status"))
        .stream().map(EmbeddedKubernetes.Request::userAgent).toList();
    assertThat(writers).isNotEmpty().containsOnly(plain.agent());
  }

  private Double remaining(String ns, String name) {
    TrainingBudget b = api.client().resources(TrainingBudget.class).inNamespace(ns).withName(name).get();
    return b == null || b.getStatus() == null ? null : b.getStatus().remainingUSD;
  }

  private boolean waiting(String ns, String name) {
    TrainingJob job = get(ns, name);
    return job != null && job.getStatus() != null && job.getStatus().phase == Phase.Pending
        && Conditions.isTrue(job.getStatus(), ConditionType.BUDGET_EXHAUSTED);
  }

  private boolean settled(String ns, String name) {
    TrainingJob job = get(ns, name);
    return job.getStatus().budget != null && Boolean.TRUE.equals(job.getStatus().budget.settled);
  }

  /** A job whose worst case is $1.00 (on a machine at $3.60 an hour: it runs a few seconds, cents at most). */
  private static TrainingJob boundedJob(String ns, String name, String shard) {
    TrainingJob job = job(ns, name, shard);
    job.getSpec().compute = new ComputeSpec();
    job.getSpec().compute.local = new ComputeSpec.LocalSpec();
    job.getSpec().compute.local.hourlyPriceUSD = 3.6;
    job.getSpec().limits = new LimitsSpec();
    job.getSpec().limits.maxCostUSD = 1.0;
    return job;
  }

  private static double nullToZero(Double d) {
    return d == null ? 0 : d;
  }
}
