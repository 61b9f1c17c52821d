package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.job.Reason;

import dev.trainingjob.operator.status.Lifecycle;
import dev.trainingjob.operator.status.StatusRecorder;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import dev.trainingjob.operator.api.Timings;
import dev.trainingjob.operator.job.JobFailure;
import dev.trainingjob.operator.job.EventRecorder;

import dev.trainingjob.operator.api.InstanceStatus;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.api.TrainingJobStatus;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.cost.JobPrices;
import dev.trainingjob.operator.metrics.OperatorMetrics;
import dev.trainingjob.operator.provider.ComputeProvider;
import dev.trainingjob.operator.provider.Machine;
import dev.trainingjob.operator.provider.ProviderRegistry;
import dev.trainingjob.operator.remote.HostUnreachableException;
import dev.trainingjob.operator.remote.JobRef;
import dev.trainingjob.operator.remote.ProbeResult;
import dev.trainingjob.operator.remote.RemoteHost;
import dev.trainingjob.operator.remote.RemoteHosts;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One reconcile of one job: the resource, its working status, and what steps act through. */
public final class JobContext {
  private static final Logger LOG = LoggerFactory.getLogger(JobContext.class);
  /** Connect and install a new host key; once more while sshd reloads; see it presented; connect expecting only it. */
  private static final int MAX_CONNECT_ROUNDS = 4;
  /** A wait on the machine lasts this many probe intervals, then a later probe starts another. */
  private static final int WAIT_PROBES = 12;
  /** The states a job moves on from by itself, which a wait on the machine watches for a change. */
  private static final java.util.Set<ProbeResult.State> WAITED_ON = java.util.EnumSet.of(ProbeResult.State.STARTING,
      ProbeResult.State.BOOTSTRAPPING, ProbeResult.State.RUNNING, ProbeResult.State.SYNCING);

  /** What every reconcile shares. */
  public record Services(OperatorConfig config, ProviderRegistry providers, RemoteHosts remoteHosts,
      JobBundles bundles, EventRecorder events, Clock clock, JobPrices prices, OperatorMetrics metrics, BudgetLedger budgets,
      ShardClaim claims, ProbeRunner probes) {
    /** With probes made inline, in the reconcile that asks (the decision tests). */
    public Services(OperatorConfig config, ProviderRegistry providers, RemoteHosts remoteHosts, JobBundles bundles,
        EventRecorder events, Clock clock, JobPrices prices, OperatorMetrics metrics, BudgetLedger budgets, ShardClaim claims) {
      this(config, providers, remoteHosts, bundles, events, clock, prices, metrics, budgets, claims, ProbeRunner.inline());
    }

    /** Without TrainingBudgets: every namespace admits jobs as if it had none. */
    public Services(OperatorConfig config, ProviderRegistry providers, RemoteHosts remoteHosts, JobBundles bundles,
        EventRecorder events, Clock clock, JobPrices prices, OperatorMetrics metrics) {
      this(config, providers, remoteHosts, bundles, events, clock, prices, metrics, BudgetLedger.none());
    }

    /** With claims recorded on the job only: jobs held in memory, no API to write them to. */
    public Services(OperatorConfig config, ProviderRegistry providers, RemoteHosts remoteHosts, JobBundles bundles,
        EventRecorder events, Clock clock, JobPrices prices, OperatorMetrics metrics, BudgetLedger budgets) {
      this(config, providers, remoteHosts, bundles, events, clock, prices, metrics, budgets, new ShardClaim(null, config.shard()));
    }
  }

  private final TrainingJob job;
  private final Services services;

  JobContext(TrainingJob job, Services services) {
    this.job = job;
    this.services = services;
    if (job.getStatus() == null) {
      job.setStatus(new TrainingJobStatus());
    }
  }

  public TrainingJob job() {
    return job;
  }

  public TrainingJobStatus status() {
    return job.getStatus();
  }

  public JobRef ref() {
    return JobRef.of(job);
  }

  public OperatorConfig config() {
    return services.config();
  }

  public ComputeProvider provider() {
    return services.providers().forJob(job);
  }

  /** The name of the provider that holds the job (or, before admission, the one its spec asks for). */
  public String providerName() {
    return status().provider != null ? status().provider : services.providers().requested(job);
  }

  /** The provider the spec asks for now (which may differ from the one that holds the job). */
  String requestedProvider() {
    return services.providers().requested(job);
  }

  public JobBundles bundles() {
    return services.bundles();
  }

  public EventRecorder events() {
    return services.events();
  }

  public Instant now() {
    return services.clock().instant();
  }

  public String nowText() {
    return now().toString();
  }

  /**
   * When the machine cannot be reached: if the provider says it is gone, the job does not wait for SSH that never comes. A
   * spot instance the cloud reclaimed is replaced (the returned step launches the next attempt); any other gone machine ends
   * the job InstanceLost. Empty while the machine is there.
   */
  Optional<StepResult> ifMachineGone(Exception unreachable) throws Exception {
    var machine = provider().describe(job);
    if (machine.isPresent() && machine.get().state() == Machine.State.GONE) {
      return Optional.of(Attempts.afterMachineGone(this, machine.get(), unreachable.getMessage()));
    }
    return Optional.empty();
  }

  /** True when the provider says the machine is gone (terminated from outside, a spot interruption). */
  boolean machineGone() throws Exception {
    var machine = provider().describe(job);
    return machine.isPresent() && machine.get().state() == Machine.State.GONE;
  }

  /**
   * The SSH connection to the job's machine (reused across reconciles by RemoteHosts, held for this job until release).
   * Each new connection is shown to the provider, which may change how the machine is reached (ec2 replaces the host
   * key the user data carried): then the connections made the old way are closed and it connects again, a few rounds
   * at most (install, promote, settled); a machine that has not taken its new key by then is tried again later.
   */
  public RemoteHost remote() throws Exception {
    InstanceStatus instance = status().instance;
    if (instance == null) {
      throw new IllegalStateException("the job has no machine yet");
    }
    for (int round = 1; ; round++) {
      var access = provider().access(job, instance);
      instance.sshPort = access.target().port();
      RemoteHost remote;
      try {
        remote = services.remoteHosts().connect(access.target(), ref());
      } catch (HostUnreachableException e) {
        services.metrics().sshConnectFailure(provider().name());
        throw e;
      }
      if (!provider().afterConnect(job, remote)) {
        // once SSH answers (a script that ends before any probe still has one), and from the same access as the port,
        // so the two agree after an operator restart moved the port
        status().attachCommand = access.attachCommand();
        return remote;
      }
      closeConnections();
      if (round == MAX_CONNECT_ROUNDS) {
        throw new HostUnreachableException(access.target().host() + ":" + access.target().port(),
            "its SSH host key is being replaced, and sshd has not settled yet; connecting again shortly", null);
      }
    }
  }

  /** Closes the job's SSH connections (those no other job holds): it is released, or its machine is reached anew. */
  void closeConnections() {
    services.remoteHosts().release(ref());
  }

  /**
   * The outcome of a probe made beside the reconcile ({@link ProbeRunner}): the latest one not yet taken, or, when there is
   * none, a new one asked for and empty until it lands (the runner wakes the job then). Its failure is thrown by
   * {@link #reached}, as a probe made here would throw it.
   */
  Optional<ProbeRunner.Outcome> probeBeside() {
    String uid = job.getMetadata().getUid();
    String stint = stint();
    var probes = services.probes();
    var done = probes.take(uid, stint);
    if (done.isEmpty()) {
      probes.request(ResourceID.fromResource(job), uid, stint, detachedProbe());
      done = probes.take(uid, stint); // an inline runner has it already
    }
    return done;
  }

  /** What the probe saw; how it reached the machine goes into status, as {@link #remote} would have written it. */
  ProbeResult reached(ProbeRunner.Outcome outcome) throws Exception {
    var probed = outcome.get();
    if (status().instance != null && probed.sshPort() != null) {
      status().instance.sshPort = probed.sshPort();
    }
    if (probed.attachCommand() != null) {
      status().attachCommand = probed.attachCommand();
    }
    return probed.result();
  }

  /** The script's run and attempt: a probe's result is taken only by the stint it was asked for. */
  String stint() {
    var run = status().run;
    return (run == null || run.number == null ? 1 : run.number) + "/" + Attempts.current(status()) + "/"
        + (status().launch == null ? 1 : status().launch);
  }

  /**
   * A probe that runs on another thread while this reconcile goes on: it works on its own copy of the job (the provider
   * reads the job's spec and status to reach the machine, and {@link #remote} writes the port it found), never on the
   * status this reconcile writes.
   */
  private ProbeRunner.Probe detachedProbe() {
    TrainingJob copy = new TrainingJob();
    copy.setMetadata(job.getMetadata());
    copy.setSpec(job.getSpec());
    copy.setStatus(StatusRecorder.snapshot(status()));
    JobContext beside = new JobContext(copy, services);
    return () -> {
      RemoteHost remote = beside.remote();
      ProbeResult result = beside.probe(remote);
      var instance = beside.status().instance;
      return new ProbeRunner.Probed(result, instance == null ? null : instance.sshPort, beside.status().attachCommand,
          watchFor(remote, result));
    };
  }

  /**
   * Waits on the machine, beside the reconciles, until the job moves on from what {@code probe} saw: the job is woken the
   * moment its script runs or ends instead of at the next probe. Nothing to wait for once it ended.
   */
  void waitBeside(RemoteHost remote, ProbeResult probe) {
    services.probes().watch(ResourceID.fromResource(job), job.getMetadata().getUid(), stint(), watchFor(remote, probe));
  }

  /** A wait on the machine for the job to leave the state the probe saw; null when there is nothing left to wait for. */
  private ProbeRunner.Watch watchFor(RemoteHost remote, ProbeResult probe) {
    if (probe.exited() || !probe.sessionAlive() || !WAITED_ON.contains(probe.state())) {
      return null; // ended, lost (the probes tell), or a state word this operator does not know
    }
    JobRef ref = ref();
    Duration bound = config().probeInterval().multipliedBy(WAIT_PROBES);
    return new ProbeRunner.Watch(probe.state(), () -> remote.awaitChange(ref, probe.state(), bound), seen -> watchFor(remote, seen));
  }

  /** One probe of the job on its machine, timed for the probe-latency metric. */
  public ProbeResult probe(RemoteHost remote) throws Exception {
    return services.metrics().probe(provider().name(), () -> remote.probe(ref()));
  }

  public OperatorMetrics metrics() {
    return services.metrics();
  }

  public JobPrices prices() {
    return services.prices();
  }

  /** The namespace's TrainingBudgets. */
  BudgetLedger budgets() {
    return services.budgets();
  }

  /** Moves to a new phase: status (phase, conditions, message), and on a change an Event and a log line. */
  public void moveTo(Phase phase, Reason reason, String message) {
    Phase from = status().phase;
    if (phase.isFinal() && (from == null || !from.isFinal())) {
      Attempts.recordLast(this, phase == Phase.Succeeded ? Reason.Succeeded.name() : reason.name());
      if (status().progress != null) {
        status().progress.etaSummary = null; // nothing is left to wait for
      }
    }
    if (Lifecycle.moveTo(status(), phase, reason, message, job.getMetadata().getGeneration(), now())) {
      LOG.info("{}: {} -> {} ({}): {}", job.ref(), from, phase, reason, message);
      if (phase == Phase.Failed) {
        events().warning(job, reason, message);
      } else {
        events().normal(job, reason, message);
      }
    }
  }

  /** The status's timings, made on first use. */
  public Timings timings() {
    return Lifecycle.timings(status());
  }

  /** Ends the job in Failed. */
  public void fail(Reason reason, String message) {
    moveTo(Phase.Failed, reason, message);
  }
}
