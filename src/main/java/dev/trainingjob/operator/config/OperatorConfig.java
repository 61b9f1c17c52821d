package dev.trainingjob.operator.config;

import dev.trainingjob.operator.provider.ec2.Ec2Settings;
import dev.trainingjob.operator.remote.RemoteSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/**
 * The operator's settings (from `run` flags or their environment variables).
 *
 * @param operatorId names this operator instance on what it creates (the managed-by tag)
 * @param defaultProvider the provider for jobs whose spec.compute names none
 * @param namespaces namespaces to watch; empty means all
 * @param pollInterval how often a machine that is not ready yet is looked at again
 * @param probeInterval how often a running job is probed
 * @param sshReadyTimeout how long a machine may take before SSH answers
 * @param reconcileThreads how many jobs are reconciled at once
 * @param outputDir where the local and host providers collect outputs (one folder per job)
 * @param localWorkRoot the local provider's working root (one home per job)
 * @param remote how the operator works on machines
 * @param ec2 how the ec2 provider works in an AWS account
 * @param progressWriteInterval the least time between two status writes that change only progress, logs, usage or cost
 * @param metricsPort the port of /metrics, /healthz and /readyz; 0 picks a free one, negative serves none
 * @param priceList a properties file of instance type = USD per hour over the bundled list; null for the bundled list only
 * @param leaderElection whether and how replicas elect the one that reconciles
 */
public record OperatorConfig(
    String operatorId,
    String defaultProvider,
    Set<String> namespaces,
    Duration pollInterval,
    Duration probeInterval,
    Duration sshReadyTimeout,
    int reconcileThreads,
    Path outputDir,
    Path localWorkRoot,
    RemoteSettings remote,
    Ec2Settings ec2,
    Duration progressWriteInterval,
    int metricsPort,
    Path priceList,
    LeaderElection leaderElection) {

  public static OperatorConfig defaults() {
    return new OperatorConfig("trainingjob-operator", "local", Set.of(), Duration.ofSeconds(10), Duration.ofSeconds(5),
        Duration.ofMinutes(10), 10, Path.of("trainingjob-outputs"),
        Path.of(System.getProperty("java.io.tmpdir"), "trainingjob-local"), RemoteSettings.defaults(),
        Ec2Settings.defaults(), Duration.ofSeconds(15), -1, null, LeaderElection.off());
  }

  public OperatorConfig withDefaultProvider(String provider) {
    return new OperatorConfig(operatorId, provider, namespaces, pollInterval, probeInterval, sshReadyTimeout, reconcileThreads,
        outputDir, localWorkRoot, remote, ec2, progressWriteInterval, metricsPort, priceList, leaderElection);
  }

  public OperatorConfig withIntervals(Duration poll, Duration probe) {
    return new OperatorConfig(operatorId, defaultProvider, namespaces, poll, probe, sshReadyTimeout, reconcileThreads,
        outputDir, localWorkRoot, remote, ec2, progressWriteInterval, metricsPort, priceList, leaderElection);
  }

  public OperatorConfig withSshReadyTimeout(Duration timeout) {
    return new OperatorConfig(operatorId, defaultProvider, namespaces, pollInterval, probeInterval, timeout, reconcileThreads,
        outputDir, localWorkRoot, remote, ec2, progressWriteInterval, metricsPort, priceList, leaderElection);
  }

  public OperatorConfig withDirectories(Path outputs, Path localRoot) {
    return new OperatorConfig(operatorId, defaultProvider, namespaces, pollInterval, probeInterval, sshReadyTimeout,
        reconcileThreads, outputs, localRoot, remote, ec2, progressWriteInterval, metricsPort, priceList, leaderElection);
  }

  public OperatorConfig withRemote(RemoteSettings settings) {
    return new OperatorConfig(operatorId, defaultProvider, namespaces, pollInterval, probeInterval, sshReadyTimeout,
        reconcileThreads, outputDir, localWorkRoot, settings, ec2, progressWriteInterval, metricsPort, priceList, leaderElection);
  }

  public OperatorConfig withEc2(Ec2Settings settings) {
    return new OperatorConfig(operatorId, defaultProvider, namespaces, pollInterval, probeInterval, sshReadyTimeout,
        reconcileThreads, outputDir, localWorkRoot, remote, settings, progressWriteInterval, metricsPort, priceList, leaderElection);
  }

  public OperatorConfig withOperatorId(String id) {
    return new OperatorConfig(id, defaultProvider, namespaces, pollInterval, probeInterval, sshReadyTimeout,
        reconcileThreads, outputDir, localWorkRoot, remote, ec2, progressWriteInterval, metricsPort, priceList, leaderElection);
  }

  public OperatorConfig withObservability(Duration progressWrites, int port, Path prices) {
    return new OperatorConfig(operatorId, defaultProvider, namespaces, pollInterval, probeInterval, sshReadyTimeout,
        reconcileThreads, outputDir, localWorkRoot, remote, ec2, progressWrites, port, prices, leaderElection);
  }

  public OperatorConfig withLeaderElection(LeaderElection election) {
    return new OperatorConfig(operatorId, defaultProvider, namespaces, pollInterval, probeInterval, sshReadyTimeout,
        reconcileThreads, outputDir, localWorkRoot, remote, ec2, progressWriteInterval, metricsPort, priceList, election);
  }
}
