package dev.trainingjob.operator;

import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.provider.ComputeProvider;
import dev.trainingjob.operator.provider.ProviderRegistry;
import dev.trainingjob.operator.reconciler.JobBundles;
import dev.trainingjob.operator.reconciler.JobContext;
import dev.trainingjob.operator.reconciler.KubernetesEventRecorder;
import dev.trainingjob.operator.reconciler.OperatorFactory;
import dev.trainingjob.operator.remote.RemoteHosts;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import java.time.Clock;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A started operator and what it owns; closing it stops reconciling and closes SSH connections. */
public final class OperatorRuntime implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(OperatorRuntime.class);
  private final Operator operator;
  private final RemoteHosts remoteHosts;
  private final List<? extends AutoCloseable> owned;

  private OperatorRuntime(Operator operator, RemoteHosts remoteHosts, List<? extends AutoCloseable> owned) {
    this.operator = operator;
    this.remoteHosts = remoteHosts;
    this.owned = owned;
  }

  /**
   * Starts the operator with the given providers; {@code owned} are closed with it (an embedded
   * SSH server, say).
   */
  public static OperatorRuntime start(KubernetesClient client, OperatorConfig config, List<ComputeProvider> providers,
      RemoteHosts remoteHosts, List<? extends AutoCloseable> owned) {
    var services = new JobContext.Services(config, new ProviderRegistry(config.defaultProvider(), providers), remoteHosts,
        new JobBundles(client), new KubernetesEventRecorder(client), Clock.systemUTC());
    Operator operator = OperatorFactory.create(client, config, services);
    operator.start();
    LOG.info("operator {} started: default provider {}, providers {}, namespaces {}", config.operatorId(),
        config.defaultProvider(), providers.stream().map(ComputeProvider::name).toList(),
        config.namespaces().isEmpty() ? "all" : config.namespaces());
    return new OperatorRuntime(operator, remoteHosts, owned);
  }

  @Override
  public void close() {
    operator.stop();
    remoteHosts.close();
    for (AutoCloseable c : owned) {
      try {
        c.close();
      } catch (Exception e) {
        LOG.warn("closing {}: {}", c, e.getMessage());
      }
    }
  }
}
