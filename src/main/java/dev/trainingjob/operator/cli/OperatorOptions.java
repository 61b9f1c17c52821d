package dev.trainingjob.operator.cli;

import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.provider.ec2.Ec2Settings;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Option;

/** The operator's settings as flags; each has an environment variable of the same meaning. */
public final class OperatorOptions {
  @Option(names = "--default-provider", defaultValue = "${env:TRAININGJOB_DEFAULT_PROVIDER:-local}",
      description = "Provider for jobs whose spec.compute names none: ec2, host or local. Env: TRAININGJOB_DEFAULT_PROVIDER. Default: ${DEFAULT-VALUE}.")
  String defaultProvider;

  @Option(names = "--namespaces", split = ",", defaultValue = "${env:TRAININGJOB_NAMESPACES}",
      description = "Comma-separated namespaces to watch; all when empty. Env: TRAININGJOB_NAMESPACES.")
  List<String> namespaces;

  @Option(names = "--operator-id", defaultValue = "${env:TRAININGJOB_OPERATOR_ID:-trainingjob-operator}",
      description = "Names this operator on what it creates (the managed-by tag). Env: TRAININGJOB_OPERATOR_ID. Default: ${DEFAULT-VALUE}.")
  String operatorId;

  @Option(names = "--poll-interval", converter = DurationConverter.class, defaultValue = "${env:TRAININGJOB_POLL_INTERVAL:-10s}",
      description = "How often a machine that is not ready is looked at again. Env: TRAININGJOB_POLL_INTERVAL. Default: ${DEFAULT-VALUE}.")
  Duration pollInterval;

  @Option(names = "--probe-interval", converter = DurationConverter.class, defaultValue = "${env:TRAININGJOB_PROBE_INTERVAL:-5s}",
      description = "How often a running job is probed over SSH. Env: TRAININGJOB_PROBE_INTERVAL. Default: ${DEFAULT-VALUE}.")
  Duration probeInterval;

  @Option(names = "--ssh-ready-timeout", converter = DurationConverter.class, defaultValue = "${env:TRAININGJOB_SSH_READY_TIMEOUT:-10m}",
      description = "How long a new machine may take before SSH answers. Env: TRAININGJOB_SSH_READY_TIMEOUT. Default: ${DEFAULT-VALUE}.")
  Duration sshReadyTimeout;

  @Option(names = "--reconcile-threads", defaultValue = "${env:TRAININGJOB_RECONCILE_THREADS:-10}",
      description = "How many jobs are reconciled at once. Env: TRAININGJOB_RECONCILE_THREADS. Default: ${DEFAULT-VALUE}.")
  int reconcileThreads;

  @Option(names = "--output-dir", defaultValue = "${env:TRAININGJOB_COLLECT_DIR:-trainingjob-outputs}",
      description = "Where the local and host providers collect outputs, one folder per namespace/name. Env: TRAININGJOB_COLLECT_DIR. Default: ${DEFAULT-VALUE}.")
  Path outputDir;

  @Option(names = "--local-work-root", defaultValue = "${env:TRAININGJOB_LOCAL_WORK_ROOT:-${sys:java.io.tmpdir}/trainingjob-local}",
      description = "The local provider's working root: one home per job. Env: TRAININGJOB_LOCAL_WORK_ROOT. Default: ${DEFAULT-VALUE}.")
  Path localWorkRoot;

  @Option(names = "--miniforge-url", defaultValue = "${env:TRAININGJOB_MINIFORGE_URL}",
      description = "Where machines download the Miniforge installer for bootstrap: conda. Env: TRAININGJOB_MINIFORGE_URL.")
  String miniforgeUrl;

  @Option(names = "--miniforge-sha256", defaultValue = "${env:TRAININGJOB_MINIFORGE_SHA256}",
      description = "The installer's SHA-256; conda jobs fail with a clear message without it. Env: TRAININGJOB_MINIFORGE_SHA256.")
  String miniforgeSha256;

  @Option(names = "--stop-grace", converter = DurationConverter.class, defaultValue = "${env:TRAININGJOB_STOP_GRACE:-10s}",
      description = "How long a script has after Ctrl-C before it is killed. Env: TRAININGJOB_STOP_GRACE. Default: ${DEFAULT-VALUE}.")
  Duration stopGrace;

  @Option(names = "--ec2-region", defaultValue = "${env:TRAININGJOB_EC2_REGION}",
      description = "AWS region for the ec2 provider; the SDK's default chain (AWS_REGION, profile) when empty. Env: TRAININGJOB_EC2_REGION.")
  String ec2Region;

  @Option(names = "--ec2-endpoint", defaultValue = "${env:TRAININGJOB_EC2_ENDPOINT}",
      description = "An EC2 and SSM endpoint URL to use instead of AWS's public one (a VPC endpoint). Env: TRAININGJOB_EC2_ENDPOINT.")
  URI ec2Endpoint;

  @Option(names = "--ec2-ssh-cidrs", split = ",", converter = CidrConverter.class, defaultValue = "${env:TRAININGJOB_EC2_SSH_CIDRS}",
      description = "Comma-separated CIDRs the operator's SSH connections come from; port 22 of each instance is opened to these only. "
          + "Required to launch. Env: TRAININGJOB_EC2_SSH_CIDRS.")
  List<String> ec2SshCidrs;

  @Option(names = "--ec2-ssh-port", defaultValue = "${env:TRAININGJOB_EC2_SSH_PORT:-22}",
      description = "The port sshd listens on in the images used. Env: TRAININGJOB_EC2_SSH_PORT. Default: ${DEFAULT-VALUE}.")
  int ec2SshPort;

  @Option(names = "--ec2-private-address", defaultValue = "${env:TRAININGJOB_EC2_PRIVATE_ADDRESS:-false}",
      description = "Connect to instances' private addresses (operator in the same VPC). Env: TRAININGJOB_EC2_PRIVATE_ADDRESS. Default: ${DEFAULT-VALUE}.")
  boolean ec2PrivateAddress;

  @Option(names = "--ec2-instance-profile", defaultValue = "${env:TRAININGJOB_EC2_INSTANCE_PROFILE}",
      description = "IAM instance profile the instances run with; needed for spec.output.s3Uri. Env: TRAININGJOB_EC2_INSTANCE_PROFILE.")
  String ec2InstanceProfile;

  @Option(names = "--ec2-sweep-interval", converter = DurationConverter.class, defaultValue = "${env:TRAININGJOB_EC2_SWEEP_INTERVAL:-5m}",
      description = "How often instances without a TrainingJob are looked for. Env: TRAININGJOB_EC2_SWEEP_INTERVAL. Default: ${DEFAULT-VALUE}.")
  Duration ec2SweepInterval;

  @Option(names = "--ec2-orphan-grace", converter = DurationConverter.class, defaultValue = "${env:TRAININGJOB_EC2_ORPHAN_GRACE:-15m}",
      description = "How old an instance without a TrainingJob must be before it is terminated. Env: TRAININGJOB_EC2_ORPHAN_GRACE. Default: ${DEFAULT-VALUE}.")
  Duration ec2OrphanGrace;

  @Option(names = "--ec2-shutdown-grace", converter = DurationConverter.class, defaultValue = "${env:TRAININGJOB_EC2_SHUTDOWN_GRACE:-15m}",
      description = "Added to spec.limits.maxRuntimeSeconds for the instance's own shutdown. Env: TRAININGJOB_EC2_SHUTDOWN_GRACE. Default: ${DEFAULT-VALUE}.")
  Duration ec2ShutdownGrace;

  @Option(names = "--ec2-shutdown-ceiling", converter = DurationConverter.class, defaultValue = "${env:TRAININGJOB_EC2_SHUTDOWN_CEILING:-24h}",
      description = "When an instance shuts itself down if its job sets no maxRuntimeSeconds. Env: TRAININGJOB_EC2_SHUTDOWN_CEILING. Default: ${DEFAULT-VALUE}.")
  Duration ec2ShutdownCeiling;

  @Option(names = "--ec2-shutdown-command", defaultValue = "${env:TRAININGJOB_EC2_SHUTDOWN_COMMAND}",
      description = "The command the driver runs on the instance to schedule its shutdown, with $1 = minutes and $2 = seconds. "
          + "Env: TRAININGJOB_EC2_SHUTDOWN_COMMAND. Default: " + Ec2Settings.DEFAULT_SHUTDOWN_COMMAND)
  String ec2ShutdownCommand;

  @Option(names = "--progress-write-interval", converter = DurationConverter.class,
      defaultValue = "${env:TRAININGJOB_PROGRESS_WRITE_INTERVAL:-15s}",
      description = "The least time between two status writes of a job that change only progress, log tail, usage or cost; "
          + "phase changes are written at once. Env: TRAININGJOB_PROGRESS_WRITE_INTERVAL. Default: ${DEFAULT-VALUE}.")
  Duration progressWriteInterval;

  @Option(names = "--metrics-port", defaultValue = "${env:TRAININGJOB_METRICS_PORT:-8080}",
      description = "Port of /metrics (Prometheus), /healthz and /readyz; negative for none. Env: TRAININGJOB_METRICS_PORT. "
          + "Default: ${DEFAULT-VALUE}.")
  int metricsPort;

  @Option(names = "--price-list", defaultValue = "${env:TRAININGJOB_PRICE_LIST}",
      description = "A properties file of instance-type=USD-per-hour over the bundled on-demand list, for status.cost. "
          + "Env: TRAININGJOB_PRICE_LIST.")
  Path priceList;

  @Option(names = "--leader-election", defaultValue = "${env:TRAININGJOB_LEADER_ELECTION:-false}",
      description = "Elect one replica through a Lease to reconcile and sweep; the others wait to take over. "
          + "Env: TRAININGJOB_LEADER_ELECTION. Default: ${DEFAULT-VALUE}.")
  boolean leaderElection;

  @Option(names = "--lease-namespace", defaultValue = "${env:TRAININGJOB_LEASE_NAMESPACE}",
      description = "The namespace of the Lease (the operator's own). Env: TRAININGJOB_LEASE_NAMESPACE.")
  String leaseNamespace;

  @Option(names = "--leader-identity", defaultValue = "${env:TRAININGJOB_LEADER_IDENTITY}",
      description = "This replica's name in the Lease (the pod's name). Env: TRAININGJOB_LEADER_IDENTITY.")
  String leaderIdentity;

  public OperatorConfig toConfig() {
    OperatorConfig.Builder c = OperatorConfig.builder();
    c.operatorId = operatorId;
    c.defaultProvider = defaultProvider;
    Set<String> ns = new LinkedHashSet<>();
    if (namespaces != null) {
      namespaces.stream().map(String::trim).filter(s -> !s.isEmpty()).forEach(ns::add);
    }
    c.namespaces = ns;
    c.pollInterval = pollInterval;
    c.probeInterval = probeInterval;
    c.sshReadyTimeout = sshReadyTimeout;
    c.reconcileThreads = reconcileThreads;
    c.outputDir = outputDir;
    c.localWorkRoot = localWorkRoot;
    c.remote.miniforgeUrl = miniforgeUrl;
    c.remote.miniforgeSha256 = miniforgeSha256;
    c.remote.stopGrace = stopGrace;
    c.ec2.region = blankToNull(ec2Region);
    c.ec2.endpoint = ec2Endpoint;
    c.ec2.sshCidrs = ec2SshCidrs == null ? List.of() : ec2SshCidrs.stream().map(String::trim).filter(s -> !s.isEmpty()).toList();
    c.ec2.sshPort = ec2SshPort;
    c.ec2.privateAddress = ec2PrivateAddress;
    c.ec2.instanceProfile = blankToNull(ec2InstanceProfile);
    c.ec2.sweepInterval = ec2SweepInterval;
    c.ec2.orphanGrace = ec2OrphanGrace;
    c.ec2.shutdownGrace = ec2ShutdownGrace;
    c.ec2.shutdownCeiling = ec2ShutdownCeiling;
    // a blank variable (one a manifest sets to "") must not schedule an empty command; the builder keeps the default
    if (blankToNull(ec2ShutdownCommand) != null) {
      c.ec2.shutdownCommand = ec2ShutdownCommand;
    }
    c.progressWriteInterval = progressWriteInterval;
    c.metricsPort = metricsPort;
    c.priceList = priceList;
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
}
