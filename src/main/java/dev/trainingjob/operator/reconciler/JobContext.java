package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.job.Reason;

import dev.trainingjob.operator.status.Lifecycle;
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
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One reconcile of one job: the resource, its working status, and what steps act through. */
public final class JobContext {
  private static final Logger LOG = LoggerFactory.getLogger(JobContext.class);
  /** Connect and install a new host key; once more while sshd reloads; see it presented; connect expecting only it. */
  private static final int MAX_CONNECT_ROUNDS = 4;

  /** What every reconcile shares. */
  public record Services(OperatorConfig config, ProviderRegistry providers, RemoteHosts remoteHosts,
      JobBundles bundles, EventRecorder events, Clock clock, JobPrices prices, OperatorMetrics metrics, BudgetLedger budgets,
      ShardClaim claims) {
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
