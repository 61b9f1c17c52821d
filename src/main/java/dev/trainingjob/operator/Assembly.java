package dev.trainingjob.operator;

import dev.trainingjob.operator.api.Shard;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.provider.ComputeProvider;
import dev.trainingjob.operator.provider.ec2.Ec2Clients;
import dev.trainingjob.operator.provider.ec2.Ec2Provider;
import dev.trainingjob.operator.provider.ec2.OperatorId;
import dev.trainingjob.operator.provider.ec2.OrphanSweeper;
import dev.trainingjob.operator.provider.host.HostProvider;
import dev.trainingjob.operator.provider.local.LocalProvider;
import dev.trainingjob.operator.job.BackgroundEventRecorder;
import dev.trainingjob.operator.job.KubernetesEventRecorder;
import dev.trainingjob.operator.remote.ssh.SshRemoteHosts;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkClientException;

/**
 * Builds the production operator: the SSH client and the providers its configuration turns on. The host provider is
 * always there; local only when asked for (it runs job code as the operator's own user); ec2 only with an operator id
 * that names this install alone, and a region.
 */
public final class Assembly {
  private static final Logger LOG = LoggerFactory.getLogger(Assembly.class);
  private static final List<String> PROVIDERS = List.of("ec2", "host", "local");
  static final String LOCAL_OFF = "it runs a job's code on the operator's own machine, as the operator's own user with its files, "
      + "so it is off unless the operator is started with --enable-local-provider (the demo is)";

  private Assembly() {}

  /**
   * Refuses a configuration whose default provider can never serve a job (unknown, or one the configuration itself
   * keeps off), and an operator id that cannot name an install: `run` checks this before it connects to anything.
   */
  public static void check(OperatorConfig config) {
    Shard.problem(config.shard()).ifPresent(p -> {
      throw new IllegalArgumentException("--shard: " + p);
    });
    if (config.operatorId() != null) {
      OperatorId.require(config.operatorId());
      // a shard's id is the operator id and the shard's name: it must still name this install alone, and fit a DNS label
      OperatorId.problem(config.installId()).ifPresent(p -> {
        throw new IllegalArgumentException("--operator-id with --shard " + config.shardName() + ": " + p);
      });
    }
    String d = config.defaultProvider();
    if (d == null) {
      return;
    }
    if (!PROVIDERS.contains(d)) {
      throw new IllegalArgumentException("--default-provider " + d + ": there is no such provider (ec2, host or local)");
    }
    if ("local".equals(d) && !config.localProvider()) {
      throw new IllegalArgumentException("--default-provider local needs --enable-local-provider: the local provider " + LOCAL_OFF);
    }
    ec2Off(config).ifPresent(why -> {
      if ("ec2".equals(d)) {
        throw new IllegalArgumentException("--default-provider ec2, but the ec2 provider is off: " + why);
      }
    });
  }

  public static OperatorRuntime start(KubernetesClient client, OperatorConfig config) {
    return start(client, config, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  /** As above, with the registry its metrics go to (a benchmark's, which keeps what it measures). */
  public static OperatorRuntime start(KubernetesClient client, OperatorConfig config, PrometheusMeterRegistry meters) {
    check(config);
    SshRemoteHosts remoteHosts = new SshRemoteHosts(config.remote());
    List<ComputeProvider> providers = new ArrayList<>();
    List<AutoCloseable> owned = new ArrayList<>();
    Map<String, String> off = new LinkedHashMap<>();
    if (config.localProvider()) {
      LocalProvider local;
      try {
        local = new LocalProvider(config.localWorkRoot(), config.outputDir(), remoteHosts);
      } catch (IOException e) {
        remoteHosts.close();
        throw new UncheckedIOException("could not start the local provider under " + config.localWorkRoot() + ": " + e.getMessage(), e);
      }
      providers.add(local);
      owned.add(local);
    } else {
      off.put("local", LOCAL_OFF);
    }
    providers.add(new HostProvider(client, remoteHosts, config.outputDir()));
    Optional<String> ec2Off = ec2Off(config);
    Ec2Clients aws = ec2Off.isPresent() ? null : ec2Clients(config, meters);
    Ec2Provider ec2 = null;
    if (aws != null) {
      // the provider records Events on reconcile threads too (admission, launch): beside them, as the operator's own
      var events = new BackgroundEventRecorder(client, 1, 5_000);
      io.micrometer.core.instrument.FunctionCounter.builder("trainingjob.events.dropped", events, BackgroundEventRecorder::dropped)
          .tag("recorder", "ec2").description("Events not recorded because the API did not keep up with them").register(meters);
      owned.add(events);
      ec2 = new Ec2Provider(config.ec2(), config.installId(), config.pollInterval(), aws, client, events, config.outputDir(),
          Clock.systemUTC());
      providers.add(ec2);
      owned.add(aws);
    } else {
      String why = ec2Off.orElse("no AWS region was found (set --ec2-region or AWS_REGION)");
      LOG.info("ec2 provider off: {}", why);
      off.put("ec2", why);
      if ("ec2".equals(config.defaultProvider())) {
        LOG.warn("the default provider is ec2, which is off: jobs that name no provider fail ProviderUnavailable");
      }
    }
    OperatorRuntime runtime = OperatorRuntime.start(client, config, providers, off, remoteHosts, owned, meters);
    if (ec2 != null) {
      // the sweeper runs on the replica that leads, like the reconciles; it judges only what carries this install's id (this
      // shard's: another shard's instances are not in its view)
      var sweeper = new OrphanSweeper(ec2, client, config.namespaces(), config.ec2().orphanGrace(), new KubernetesEventRecorder(client),
          meters, Clock.systemUTC());
      runtime.own(sweeper);
      runtime.leadership().whenLeading(() -> sweeper.start(config.ec2().sweepInterval()), sweeper::stop);
    }
    return runtime;
  }

  /** Why the ec2 provider stays off whatever AWS would say; empty when it may start (a region still has to be found). */
  private static Optional<String> ec2Off(OperatorConfig config) {
    if (!config.ec2().enabled()) {
      return Optional.of("this operator does not use AWS");
    }
    return OperatorId.problem(config.operatorId()).or(() -> OperatorId.problem(config.installId()));
  }

  /** The AWS clients, or null (with the reason logged) when this environment has no region for them. */
  private static Ec2Clients ec2Clients(OperatorConfig config, PrometheusMeterRegistry meters) {
    try {
      return Ec2Clients.create(config.ec2(), meters);
    } catch (SdkClientException e) {
      LOG.debug("no AWS region: {}", e.getMessage());
      return null;
    }
  }
}
