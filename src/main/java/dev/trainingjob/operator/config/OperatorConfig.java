package dev.trainingjob.operator.config;

import dev.trainingjob.operator.api.Shard;
import dev.trainingjob.operator.provider.ec2.Ec2Settings;
import dev.trainingjob.operator.remote.RemoteSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The operator's settings (from `run` flags or their environment variables).
 *
 * @param operatorId names this install on what it creates on AWS (the managed-by tag) and scopes what its ec2 provider and
 *     sweeper see; null for none, and then the ec2 provider is off (see OperatorId). A shard other than the default adds its
 *     name: see {@link #installId()}
 * @param shard the jobs this operator runs: those labelled trainingjob.dev/shard with this name, or, for the default shard
 *     (null, or "default"), those without the label (see {@link Shard})
 * @param defaultProvider the provider for jobs whose spec.compute names none; null for none, and such a job fails InvalidSpec
 * @param localProvider whether the local provider runs jobs on the operator's own machine, as its own user
 * @param namespaces namespaces to watch; empty means all
 * @param pollInterval how often a machine that is not ready yet is looked at again
 * @param probeInterval how often a running job is probed
 * @param sshReadyTimeout how long a machine may take before SSH answers
 * @param reconcileThreads how many jobs are reconciled at once
 * @param probeThreads how many probes of running jobs run at once, beside the reconciles (a probe waits on the machine)
 * @param collectThreads how many jobs' outputs are downloaded at once (the others wait their turn, within their collect deadline)
 * @param outputDir where the local and host providers collect outputs (one folder per job)
 * @param localWorkRoot the local provider's working root (one home per job)
 * @param remote how the operator works on machines
 * @param ec2 how the ec2 provider works in an AWS account
 * @param progressWriteInterval the least time between two status writes that change only progress, logs, usage or cost
 * @param metricsPort the port of /metrics, /healthz and /readyz; 0 picks a free one, negative serves none
 * @param priceList a properties file of instance type = USD per hour over the bundled list; null for the bundled list only
 * @param leaderElection whether and how replicas elect the one that reconciles
 * @param outputsTokenFile the file holding the token every /outputs request must carry; null: /outputs serves nothing
 */
public record OperatorConfig(
    String operatorId,
    String shard,
    String defaultProvider,
    boolean localProvider,
    Set<String> namespaces,
    Duration pollInterval,
    Duration probeInterval,
    Duration sshReadyTimeout,
    int reconcileThreads,
    int probeThreads,
    int collectThreads,
    Path outputDir,
    Path localWorkRoot,
    RemoteSettings remote,
    Ec2Settings ec2,
    Duration progressWriteInterval,
    int metricsPort,
    Path priceList,
    LeaderElection leaderElection,
    Path outputsTokenFile) {

  /** The shard's name: {@link Shard#DEFAULT} for the default shard. */
  public String shardName() {
    return Shard.named(shard);
  }

  /**
   * The id everything this operator creates on AWS carries, and the only one its instance view and orphan sweeper judge:
   * the operator id for the default shard, {@code <operator-id>-<shard>} for another, so one shard's sweeper never sees,
   * let alone terminates, another shard's instances. Null without an operator id.
   */
  public String installId() {
    if (operatorId == null || Shard.isDefault(shard)) {
      return operatorId;
    }
    return operatorId + "-" + shardName();
  }

  /** The Lease of this shard's leader election: each shard elects its own leader ({@code <lease>-<shard>} but the default's). */
  public String leaseName() {
    return Shard.isDefault(shard) ? leaderElection.leaseName() : leaderElection.leaseName() + "-" + shardName();
  }

  /** What `run` does with no flags and no environment variables set. */
  public static OperatorConfig defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.operatorId = operatorId;
    b.shard = shard;
    b.defaultProvider = defaultProvider;
    b.localProvider = localProvider;
    b.namespaces = namespaces;
    b.pollInterval = pollInterval;
    b.probeInterval = probeInterval;
    b.sshReadyTimeout = sshReadyTimeout;
    b.reconcileThreads = reconcileThreads;
    b.probeThreads = probeThreads;
    b.collectThreads = collectThreads;
    b.outputDir = outputDir;
    b.localWorkRoot = localWorkRoot;
    b.remote = remote.toBuilder();
    b.ec2 = ec2.toBuilder();
    b.progressWriteInterval = progressWriteInterval;
    b.metricsPort = metricsPort;
    b.priceList = priceList;
    b.leaderElection = leaderElection.toBuilder();
    b.outputsTokenFile = outputsTokenFile;
    return b;
  }

  /** This configuration with what change sets, e.g. {@code config.with(c -> c.ec2.instanceProfile = "p")}. */
  public OperatorConfig with(Consumer<Builder> change) {
    Builder b = toBuilder();
    change.accept(b);
    return b.build();
  }

  /**
   * The one place the defaults are written: the `run` flags take theirs from here (and show them in --help), so a
   * default changed here changes both. Embedded uses (the demo, tests) set metricsPort to -1 to serve nothing.
   */
  public static final class Builder {
    // no default id: one that every install shared would make each one's sweeper terminate the others' instances
    public String operatorId;
    // no shard: the default one, which runs the jobs without the label (and every job, when it is the only operator)
    public String shard;
    // no default provider: a job says where it runs, or the operator is told; never the operator's own machine unasked
    public String defaultProvider;
    public boolean localProvider = false;
    public Set<String> namespaces = Set.of();
    public Duration pollInterval = Duration.ofSeconds(10);
    public Duration probeInterval = Duration.ofSeconds(5);
    public Duration sshReadyTimeout = Duration.ofMinutes(10);
    public int reconcileThreads = 10;
    /** A probe mostly waits on the machine (0.1-0.3 s): 32 carry 1,000 jobs at the default interval with room to spare. */
    public int probeThreads = 32;
    public int collectThreads = 8;
    public Path outputDir = Path.of("trainingjob-outputs");
    // the user's own, not a name under the shared /tmp that another user could create first (LocalWorkRoot checks either)
    public Path localWorkRoot = Path.of(System.getProperty("user.home"), ".trainingjob-operator", "local");
    public RemoteSettings.Builder remote = RemoteSettings.builder();
    public Ec2Settings.Builder ec2 = Ec2Settings.builder();
    public Duration progressWriteInterval = Duration.ofSeconds(15);
    public int metricsPort = 8080;
    public Path priceList;
    public LeaderElection.Builder leaderElection = LeaderElection.builder();
    // no token, no outputs served: a plain install exposes nobody's files to the pod network
    public Path outputsTokenFile;

    private Builder() {
    }

    public OperatorConfig build() {
      return new OperatorConfig(operatorId, shard, defaultProvider, localProvider, namespaces, pollInterval, probeInterval, sshReadyTimeout,
          reconcileThreads, probeThreads, collectThreads, outputDir, localWorkRoot, remote.build(), ec2.build(), progressWriteInterval, metricsPort, priceList,
          leaderElection.build(), outputsTokenFile);
    }
  }
}
