package dev.trainingjob.operator;

import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.provider.ComputeProvider;
import dev.trainingjob.operator.provider.ec2.Ec2Clients;
import dev.trainingjob.operator.provider.ec2.Ec2Provider;
import dev.trainingjob.operator.provider.ec2.OrphanSweeper;
import dev.trainingjob.operator.provider.host.HostProvider;
import dev.trainingjob.operator.provider.local.LocalProvider;
import dev.trainingjob.operator.job.KubernetesEventRecorder;
import dev.trainingjob.operator.remote.ssh.SshRemoteHosts;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkClientException;

/** Builds the production operator: the SSH client and every provider this build has. */
public final class Assembly {
  private static final Logger LOG = LoggerFactory.getLogger(Assembly.class);

  private Assembly() {}

  public static OperatorRuntime start(KubernetesClient client, OperatorConfig config) {
    SshRemoteHosts remoteHosts = new SshRemoteHosts(config.remote());
    LocalProvider local;
    try {
      local = new LocalProvider(config.localWorkRoot(), config.outputDir(), remoteHosts);
    } catch (IOException e) {
      remoteHosts.close();
      throw new UncheckedIOException("could not start the local provider's SSH server under " + config.localWorkRoot(), e);
    }
    List<ComputeProvider> providers = new ArrayList<>(List.of(local, new HostProvider(client, remoteHosts, config.outputDir())));
    List<AutoCloseable> owned = new ArrayList<>(List.of(local));
    var meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Ec2Clients aws = ec2Clients(config, meters);
    Ec2Provider ec2 = null;
    if (aws != null) {
      var events = new KubernetesEventRecorder(client);
      ec2 = new Ec2Provider(config.ec2(), config.operatorId(), config.pollInterval(), aws, client, events, config.outputDir(),
          Clock.systemUTC());
      providers.add(ec2);
      owned.add(aws);
    }
    OperatorRuntime runtime = OperatorRuntime.start(client, config, providers, remoteHosts, owned, meters);
    if (ec2 != null) {
      // the sweeper runs on the replica that leads, like the reconciles
      var sweeper = new OrphanSweeper(ec2, client, config.namespaces(), config.ec2().orphanGrace(), new KubernetesEventRecorder(client),
          meters, Clock.systemUTC());
      runtime.own(sweeper);
      runtime.leadership().whenLeading(() -> sweeper.start(config.ec2().sweepInterval()), sweeper::stop);
    }
    return runtime;
  }

  /** The AWS clients, or null (with the reason logged) when this environment has no region for them. */
  private static Ec2Clients ec2Clients(OperatorConfig config, PrometheusMeterRegistry meters) {
    try {
      return Ec2Clients.create(config.ec2(), meters);
    } catch (SdkClientException e) {
      LOG.info("ec2 provider off: {} (set --ec2-region or AWS_REGION to use it)", e.getMessage());
      return null;
    }
  }
}
