package dev.trainingjob.operator.cli;

import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.provider.ec2.Ec2ApiLimits;
import dev.trainingjob.operator.provider.ec2.Ec2Settings;
import dev.trainingjob.operator.provider.ec2.NamespaceAllowance;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Option;

/**
 * The operator's settings as flags; each has an environment variable of the same meaning. A flag's default is its field's
 * initial value, taken from {@link OperatorConfig#defaults()}, so the annotations name only the environment variable.
 */
@Command(defaultValueProvider = OperatorOptions.InitialValues.class)
public final class OperatorOptions {
  private static final OperatorConfig DEFAULTS = OperatorConfig.defaults();

  @Option(names = "--default-provider", defaultValue = "${env:TRAININGJOB_DEFAULT_PROVIDER}",
      description = "Provider for jobs whose spec.compute names none: ec2, host or local (local needs --enable-local-provider). "
          + "Env: TRAININGJOB_DEFAULT_PROVIDER. Default: none: such a job fails InvalidSpec.")
  String defaultProvider = DEFAULTS.defaultProvider();

  @Option(names = "--enable-local-provider", defaultValue = "${env:TRAININGJOB_ENABLE_LOCAL_PROVIDER}",
      description = "Run jobs that name compute.local on this machine, as the operator's own OS user (with its files, not its "
          + "environment): for a single-user machine, never a shared cluster. Env: TRAININGJOB_ENABLE_LOCAL_PROVIDER. "
          + "Default: ${DEFAULT-VALUE}.")
  boolean enableLocalProvider = DEFAULTS.localProvider();

  @Option(names = "--namespaces", split = ",", defaultValue = "${env:TRAININGJOB_NAMESPACES}",
      description = "Comma-separated namespaces to watch; all when empty. Env: TRAININGJOB_NAMESPACES.")
  List<String> namespaces;

  @Option(names = "--operator-id", converter = OperatorIdConverter.class, defaultValue = "${env:TRAININGJOB_OPERATOR_ID}",
      description = "This install's name on AWS, unique in the account: the managed-by tag on everything the ec2 provider "
          + "creates, the only instances and security groups it sees and sweeps, and the value the IAM policy names. A DNS "
          + "label (lower case, digits, -). Env: TRAININGJOB_OPERATOR_ID. Default: none: the ec2 provider is off.")
  String operatorId = DEFAULTS.operatorId();

  @Option(names = "--shard", defaultValue = "${env:TRAININGJOB_SHARD}",
      description = "Run only the TrainingJobs labelled trainingjob.dev/shard=NAME, with a leader election (Lease "
          + "trainingjob-operator-NAME) and an id on AWS (--operator-id + '-NAME') of this shard's own. Env: TRAININGJOB_SHARD. "
          + "Default: the default shard, which runs the jobs without that label (and keeps the TrainingBudgets' figures).")
  String shard = DEFAULTS.shard();

  @Option(names = "--poll-interval", converter = DurationConverter.class, defaultValue = "${env:TRAININGJOB_POLL_INTERVAL}",
      description = "How often a machine that is not ready is looked at again. Env: TRAININGJOB_POLL_INTERVAL. Default: ${DEFAULT-VALUE}.")
  Duration pollInterval = DEFAULTS.pollInterval();

  @Option(names = "--probe-interval", converter = DurationConverter.class, defaultValue = "${env:TRAININGJOB_PROBE_INTERVAL}",
      description = "How often a running job is probed over SSH. Env: TRAININGJOB_PROBE_INTERVAL. Default: ${DEFAULT-VALUE}.")
  Duration probeInterval = DEFAULTS.probeInterval();

  @Option(names = "--ssh-ready-timeout", converter = DurationConverter.class, defaultValue = "${env:TRAININGJOB_SSH_READY_TIMEOUT}",
      description = "How long a new machine may take before SSH answers. Env: TRAININGJOB_SSH_READY_TIMEOUT. Default: ${DEFAULT-VALUE}.")
  Duration sshReadyTimeout = DEFAULTS.sshReadyTimeout();

  @Option(names = "--reconcile-threads", defaultValue = "${env:TRAININGJOB_RECONCILE_THREADS}",
      description = "How many jobs are reconciled at once. Env: TRAININGJOB_RECONCILE_THREADS. Default: ${DEFAULT-VALUE}.")
  int reconcileThreads = DEFAULTS.reconcileThreads();

  @Option(names = "--probe-threads", defaultValue = "${env:TRAININGJOB_PROBE_THREADS}",
      description = "How many probes of running jobs run at once, beside the reconciles. Env: TRAININGJOB_PROBE_THREADS. "
          + "Default: ${DEFAULT-VALUE}.")
  int probeThreads = DEFAULTS.probeThreads();

  @Option(names = "--collect-threads", defaultValue = "${env:TRAININGJOB_COLLECT_THREADS}",
      description = "How many jobs' outputs are downloaded at once; the others wait their turn, within their collect deadline. "
          + "Env: TRAININGJOB_COLLECT_THREADS. Default: ${DEFAULT-VALUE}.")
  int collectThreads = DEFAULTS.collectThreads();

  @Option(names = "--output-dir", defaultValue = "${env:TRAININGJOB_COLLECT_DIR}",
      description = "Where the local and host providers collect outputs, one folder per namespace/name. Env: TRAININGJOB_COLLECT_DIR. Default: ${DEFAULT-VALUE}.")
  Path outputDir = DEFAULTS.outputDir();

  @Option(names = "--local-work-root", defaultValue = "${env:TRAININGJOB_LOCAL_WORK_ROOT}",
      description = "The local provider's working root: one home per job. Env: TRAININGJOB_LOCAL_WORK_ROOT. Default: ${DEFAULT-VALUE}.")
  Path localWorkRoot = DEFAULTS.localWorkRoot();

  @Option(names = "--miniforge-url", defaultValue = "${env:TRAININGJOB_MINIFORGE_URL}",
      description = "Where machines download the Miniforge installer for bootstrap: conda. Env: TRAININGJOB_MINIFORGE_URL.")
  String miniforgeUrl = DEFAULTS.remote().miniforgeUrl();

  @Option(names = "--miniforge-sha256", defaultValue = "${env:TRAININGJOB_MINIFORGE_SHA256}",
      description = "The installer's SHA-256; conda jobs fail with a clear message without it. Env: TRAININGJOB_MINIFORGE_SHA256.")
  String miniforgeSha256 = DEFAULTS.remote().miniforgeSha256();

  @Option(names = "--stop-grace", converter = DurationConverter.class, defaultValue = "${env:TRAININGJOB_STOP_GRACE}",
      description = "How long a script has after Ctrl-C before it is killed. Env: TRAININGJOB_STOP_GRACE. Default: ${DEFAULT-VALUE}.")
  Duration stopGrace = DEFAULTS.remote().stopGrace();

  @Option(names = "--collect-timeout", converter = DurationConverter.class, defaultValue = "${env:TRAININGJOB_COLLECT_TIMEOUT}",
      description = "How long collecting a job's outputs may take from the script's end; then the job ends with what was collected "
          + "and its status says what was not. Env: TRAININGJOB_COLLECT_TIMEOUT. Default: ${DEFAULT-VALUE}.")
  Duration collectTimeout = DEFAULTS.remote().collectTimeout();

  @Option(names = "--collect-max-bytes", defaultValue = "${env:TRAININGJOB_COLLECT_MAX_BYTES}",
      description = "The most one job's outputs collected into the operator's volume may weigh; the rest is not collected, the "
          + "status says so, and the machine is kept an hour for a person to fetch it. Env: TRAININGJOB_COLLECT_MAX_BYTES. Default: ${DEFAULT-VALUE} (20 GiB).")
  long collectMaxBytes = DEFAULTS.remote().collectMaxBytes();

  @Option(names = "--ec2-region", defaultValue = "${env:TRAININGJOB_EC2_REGION}",
      description = "AWS region for the ec2 provider; the SDK's default chain (AWS_REGION, profile) when empty. Env: TRAININGJOB_EC2_REGION.")
  String ec2Region = DEFAULTS.ec2().region();

  @Option(names = "--ec2-endpoint", defaultValue = "${env:TRAININGJOB_EC2_ENDPOINT}",
      description = "An EC2 and SSM endpoint URL to use instead of AWS's public one (a VPC endpoint). Env: TRAININGJOB_EC2_ENDPOINT.")
  URI ec2Endpoint = DEFAULTS.ec2().endpoint();

  @Option(names = "--ec2-ssh-cidrs", split = ",", converter = CidrConverter.class, defaultValue = "${env:TRAININGJOB_EC2_SSH_CIDRS}",
      description = "Comma-separated CIDRs the operator's SSH connections come from; port 22 of each instance is opened to these only. "
          + "Required to launch. Env: TRAININGJOB_EC2_SSH_CIDRS.")
  List<String> ec2SshCidrs;

  @Option(names = "--ec2-ssh-port", defaultValue = "${env:TRAININGJOB_EC2_SSH_PORT}",
      description = "The port sshd listens on in the images used. Env: TRAININGJOB_EC2_SSH_PORT. Default: ${DEFAULT-VALUE}.")
  int ec2SshPort = DEFAULTS.ec2().sshPort();

  @Option(names = "--ec2-private-address", defaultValue = "${env:TRAININGJOB_EC2_PRIVATE_ADDRESS}",
      description = "Connect to instances' private addresses (operator in the same VPC). Env: TRAININGJOB_EC2_PRIVATE_ADDRESS. Default: ${DEFAULT-VALUE}.")
  boolean ec2PrivateAddress = DEFAULTS.ec2().privateAddress();

  @Option(names = "--ec2-instance-profile", defaultValue = "${env:TRAININGJOB_EC2_INSTANCE_PROFILE}",
      description = "IAM instance profile the instances run with; needed for spec.output.s3Uri. Env: TRAININGJOB_EC2_INSTANCE_PROFILE.")
  String ec2InstanceProfile = DEFAULTS.ec2().instanceProfile();

  @Option(names = "--ec2-namespace-allowances", converter = AllowancesConverter.class, defaultValue = "${env:TRAININGJOB_EC2_NAMESPACE_ALLOWANCES}",
      description = "What each namespace's jobs may use, as JSON: {\"team-a\": {\"instanceProfile\": \"tj-team-a\", "
          + "\"subnets\": [\"subnet-0abc\"], \"s3Prefix\": \"s3://ml/team-a/\"}, \"*\": {...}}. A namespace not named "
          + "(and no \"*\") may not launch. Empty: every namespace may use what the other ec2 settings allow. "
          + "Env: TRAININGJOB_EC2_NAMESPACE_ALLOWANCES.")
  String ec2NamespaceAllowances;

  @Option(names = "--ec2-sweep-interval", converter = DurationConverter.class, defaultValue = "${env:TRAININGJOB_EC2_SWEEP_INTERVAL}",
      description = "How often instances without a TrainingJob are looked for. Env: TRAININGJOB_EC2_SWEEP_INTERVAL. Default: ${DEFAULT-VALUE}.")
  Duration ec2SweepInterval = DEFAULTS.ec2().sweepInterval();

  @Option(names = "--ec2-orphan-grace", converter = DurationConverter.class, defaultValue = "${env:TRAININGJOB_EC2_ORPHAN_GRACE}",
      description = "How old an instance without a TrainingJob must be before it is terminated. Env: TRAININGJOB_EC2_ORPHAN_GRACE. Default: ${DEFAULT-VALUE}.")
  Duration ec2OrphanGrace = DEFAULTS.ec2().orphanGrace();

  @Option(names = "--ec2-heartbeat-timeout", converter = DurationConverter.class, defaultValue = "${env:TRAININGJOB_EC2_HEARTBEAT_TIMEOUT}",
      description = "An instance whose operator has not probed it for this long powers itself off (its dead-man's switch, armed at "
          + "boot): what an operator that disappears costs at most. Keep it above the longest operator outage a job should survive. "
          + "Env: TRAININGJOB_EC2_HEARTBEAT_TIMEOUT. Default: ${DEFAULT-VALUE}.")
  Duration ec2HeartbeatTimeout = DEFAULTS.ec2().heartbeatTimeout();

  @Option(names = "--ec2-shutdown-grace", converter = DurationConverter.class, defaultValue = "${env:TRAININGJOB_EC2_SHUTDOWN_GRACE}",
      description = "Added to spec.limits.maxRuntimeSeconds for the instance's power-off ceiling, counted from the driver's start. "
          + "Env: TRAININGJOB_EC2_SHUTDOWN_GRACE. Default: ${DEFAULT-VALUE}.")
  Duration ec2ShutdownGrace = DEFAULTS.ec2().shutdownGrace();

  @Option(names = "--ec2-metadata-url", defaultValue = "${env:TRAININGJOB_EC2_METADATA_URL}",
      description = "The instance metadata service as an instance reaches it, where the job's driver looks every 5 s for a spot "
          + "interruption notice. Env: TRAININGJOB_EC2_METADATA_URL. Default: " + Ec2Settings.DEFAULT_METADATA_URL + ".")
  String ec2MetadataUrl;

  // the constant rather than ${DEFAULT-VALUE}: a blank variable still means this command (see toConfig), not ""
  @Option(names = "--ec2-shutdown-command", defaultValue = "${env:TRAININGJOB_EC2_SHUTDOWN_COMMAND}",
      description = "The command that powers an instance off now, run as root by its guard when the heartbeat or the ceiling "
          + "ran out ($1 says which). Env: TRAININGJOB_EC2_SHUTDOWN_COMMAND. Default: " + Ec2Settings.DEFAULT_SHUTDOWN_COMMAND)
  String ec2ShutdownCommand = DEFAULTS.ec2().shutdownCommand();

  @Option(names = "--ec2-api-limits", converter = ApiLimitsConverter.class, defaultValue = "${env:TRAININGJOB_EC2_API_LIMITS}",
      description = "EC2 API limits AWS raised for this account, as Action=capacity/refill (a second) entries: "
          + "RunInstances=10/4,RunInstances.resources=2000/4 (Action.unfiltered for a Describe without filters). The operator "
          + "paces every EC2 call to stay inside them; actions not named keep AWS's defaults (RunInstances 5, 2 a second). "
          + "Env: TRAININGJOB_EC2_API_LIMITS.")
  String ec2ApiLimits;

  @Option(names = "--ec2-api-share", defaultValue = "${env:TRAININGJOB_EC2_API_SHARE}",
      description = "The part of the account's EC2 API limits this operator may use, above 0 and at most 1: less where other "
          + "tools, or other shards, call EC2 in the same account and region. Env: TRAININGJOB_EC2_API_SHARE. Default: ${DEFAULT-VALUE}.")
  double ec2ApiShare = DEFAULTS.ec2().apiLimits().share();

  @Option(names = "--progress-write-interval", converter = DurationConverter.class,
      defaultValue = "${env:TRAININGJOB_PROGRESS_WRITE_INTERVAL}",
      description = "The least time between two status writes of a job that change only progress, log tail, usage or cost; "
          + "phase changes are written at once. Env: TRAININGJOB_PROGRESS_WRITE_INTERVAL. Default: ${DEFAULT-VALUE}.")
  Duration progressWriteInterval = DEFAULTS.progressWriteInterval();

  @Option(names = "--metrics-port", defaultValue = "${env:TRAININGJOB_METRICS_PORT}",
      description = "Port of /metrics (Prometheus), /healthz and /readyz; negative for none. Env: TRAININGJOB_METRICS_PORT. "
          + "Default: ${DEFAULT-VALUE}.")
  int metricsPort = DEFAULTS.metricsPort();

  @Option(names = "--price-list", defaultValue = "${env:TRAININGJOB_PRICE_LIST}",
      description = "A properties file of instance-type=USD-per-hour over the bundled on-demand list, for status.cost. "
          + "Env: TRAININGJOB_PRICE_LIST.")
  Path priceList = DEFAULTS.priceList();

  @Option(names = "--outputs-token-file", defaultValue = "${env:TRAININGJOB_OUTPUTS_TOKEN_FILE}",
      description = "A file holding the token every /outputs request must carry (X-Trainingjob-Outputs-Token; the chart "
          + "mounts its <fullname>-outputs-token Secret); read on each request. Without it /outputs serves nothing. "
          + "Env: TRAININGJOB_OUTPUTS_TOKEN_FILE.")
  Path outputsTokenFile = DEFAULTS.outputsTokenFile();

  @Option(names = "--leader-election", defaultValue = "${env:TRAININGJOB_LEADER_ELECTION}",
      description = "Elect one replica through a Lease to reconcile and sweep; the others wait to take over. "
          + "Env: TRAININGJOB_LEADER_ELECTION. Default: ${DEFAULT-VALUE}.")
  boolean leaderElection = DEFAULTS.leaderElection().enabled();

  @Option(names = "--lease-namespace", defaultValue = "${env:TRAININGJOB_LEASE_NAMESPACE}",
      description = "The namespace of the Lease (the operator's own). Env: TRAININGJOB_LEASE_NAMESPACE.")
  String leaseNamespace = DEFAULTS.leaderElection().leaseNamespace();

  @Option(names = "--leader-identity", defaultValue = "${env:TRAININGJOB_LEADER_IDENTITY}",
      description = "This replica's name in the Lease (the pod's name). Env: TRAININGJOB_LEADER_IDENTITY.")
  String leaderIdentity = DEFAULTS.leaderElection().identity();

  public OperatorConfig toConfig() {
    OperatorConfig.Builder c = OperatorConfig.builder();
    c.operatorId = blankToNull(operatorId);
    c.shard = blankToNull(shard);
    c.defaultProvider = blankToNull(defaultProvider);
    c.localProvider = enableLocalProvider;
    Set<String> ns = new LinkedHashSet<>();
    if (namespaces != null) {
      namespaces.stream().map(String::trim).filter(s -> !s.isEmpty()).forEach(ns::add);
    }
    c.namespaces = ns;
    c.pollInterval = pollInterval;
    c.probeInterval = probeInterval;
    c.sshReadyTimeout = sshReadyTimeout;
    c.reconcileThreads = reconcileThreads;
    c.probeThreads = probeThreads;
    c.collectThreads = collectThreads;
    c.outputDir = outputDir;
    c.localWorkRoot = localWorkRoot;
    c.remote.miniforgeUrl = miniforgeUrl;
    c.remote.miniforgeSha256 = miniforgeSha256;
    c.remote.stopGrace = stopGrace;
    c.remote.collectTimeout = collectTimeout;
    c.remote.collectMaxBytes = collectMaxBytes;
    c.ec2.region = blankToNull(ec2Region);
    c.ec2.endpoint = ec2Endpoint;
    c.ec2.sshCidrs = ec2SshCidrs == null ? List.of() : ec2SshCidrs.stream().map(String::trim).filter(s -> !s.isEmpty()).toList();
    c.ec2.sshPort = ec2SshPort;
    c.ec2.privateAddress = ec2PrivateAddress;
    c.ec2.instanceProfile = blankToNull(ec2InstanceProfile);
    c.ec2.namespaces = NamespaceAllowance.parse(ec2NamespaceAllowances);
    c.ec2.sweepInterval = ec2SweepInterval;
    c.ec2.orphanGrace = ec2OrphanGrace;
    c.ec2.heartbeatTimeout = ec2HeartbeatTimeout;
    c.ec2.shutdownGrace = ec2ShutdownGrace;
    if (blankToNull(ec2MetadataUrl) != null) {
      c.ec2.metadataUrl = ec2MetadataUrl.strip();
    }
    // a blank variable (one a manifest sets to "") must not leave the guard an empty command; the builder keeps the default
    if (blankToNull(ec2ShutdownCommand) != null) {
      c.ec2.shutdownCommand = ec2ShutdownCommand;
    }
    c.ec2.apiLimits = Ec2ApiLimits.parse(ec2ApiLimits, ec2ApiShare);
    c.progressWriteInterval = progressWriteInterval;
    c.metricsPort = metricsPort;
    c.priceList = priceList;
    c.outputsTokenFile = outputsTokenFile;
    c.leaderElection.enabled = leaderElection;
    if (leaderElection) {
      c.leaderElection.leaseNamespace = blankToNull(leaseNamespace);
      c.leaderElection.identity = blankToNull(leaderIdentity);
    }
    return c.build();
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }

  /**
   * Gives picocli each field's initial value as the option's default where its environment variable is unset: without it
   * --help would print "Default: null", since an annotation's defaultValue that resolves to nothing hides the initial value.
   * Durations are written as the flags take them (10s, not PT10S).
   */
  static final class InitialValues implements IDefaultValueProvider {
    @Override
    public String defaultValue(ArgSpec arg) {
      if (arg.defaultValue() != null || arg.initialValue() == null) {
        return null;
      }
      return arg.initialValue() instanceof Duration d ? DurationConverter.format(d) : String.valueOf(arg.initialValue());
    }
  }
}
