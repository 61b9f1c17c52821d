package dev.trainingjob.operator;

import dev.trainingjob.operator.api.Shard;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.provider.ComputeProvider;
import dev.trainingjob.operator.provider.ProviderRegistry;
import dev.trainingjob.operator.reconciler.BudgetLedger;
import dev.trainingjob.operator.reconciler.JobBundles;
import dev.trainingjob.operator.reconciler.JobContext;
import dev.trainingjob.operator.job.BackgroundEventRecorder;
import dev.trainingjob.operator.reconciler.Leadership;
import dev.trainingjob.operator.reconciler.OperatorFactory;
import dev.trainingjob.operator.reconciler.ProbeRunner;
import dev.trainingjob.operator.reconciler.ShardClaim;
import dev.trainingjob.operator.remote.RemoteHosts;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import dev.trainingjob.operator.cost.JobPrices;
import dev.trainingjob.operator.cost.PriceList;
import dev.trainingjob.operator.cost.SpotPrices;
import dev.trainingjob.operator.metrics.HealthServer;
import dev.trainingjob.operator.metrics.OperatorMetrics;
import dev.trainingjob.operator.outputs.KnownJobs;
import dev.trainingjob.operator.outputs.OutputsEndpoint;
import dev.trainingjob.operator.outputs.OutputsToken;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A started operator and what it owns; closing it stops reconciling and closes SSH connections. */
public final class OperatorRuntime implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(OperatorRuntime.class);
  /** Threads that write Events; each job's go through one, in order. */
  private static final int EVENT_LANES = 4;
  /** Events waiting per lane before more are dropped: minutes of a burst of exits at the API's pace. */
  private static final int EVENT_QUEUE_PER_LANE = 5_000;
  private final Operator operator;
  private final RemoteHosts remoteHosts;
  private final List<AutoCloseable> owned;

  private final PrometheusMeterRegistry meters;
  private volatile boolean closed;

  private final Leadership leadership;
  private final KubernetesClient client;
  private final OperatorConfig config;
  private final BackgroundEventRecorder events;

  private OperatorRuntime(Operator operator, RemoteHosts remoteHosts, List<? extends AutoCloseable> owned,
      PrometheusMeterRegistry meters, Leadership leadership, KubernetesClient client, OperatorConfig config,
      BackgroundEventRecorder events) {
    this.events = events;
    this.leadership = leadership;
    this.client = client;
    this.config = config;
    this.meters = meters;
    this.operator = operator;
    this.remoteHosts = remoteHosts;
    this.owned = new ArrayList<>(owned);
  }

  /**
   * Waits until the Events the operator recorded before this call are written (they are written beside the reconciles);
   * false when {@code within} ran out first.
   */
  public boolean awaitEventsWritten(Duration within) throws InterruptedException {
    return events.awaitWritten(within);
  }

  /** Something started after the operator that must stop with it (closed first). */
  public synchronized void own(AutoCloseable resource) {
    owned.add(0, resource);
  }

  /**
   * Starts the operator with the given providers; {@code owned} are closed with it (an embedded
   * SSH server, say).
   */
  public static OperatorRuntime start(KubernetesClient client, OperatorConfig config, List<ComputeProvider> providers,
      RemoteHosts remoteHosts, List<? extends AutoCloseable> owned) {
    return start(client, config, providers, remoteHosts, owned, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  /** As above, with the registry the operator's metrics go to (shared with providers built before it). */
  public static OperatorRuntime start(KubernetesClient client, OperatorConfig config, List<ComputeProvider> providers,
      RemoteHosts remoteHosts, List<? extends AutoCloseable> owned, PrometheusMeterRegistry meters) {
    return start(client, config, providers, Map.of(), remoteHosts, owned, meters);
  }

  /** As above; {@code off} names the providers not started, each with why (what a job that names one is told). */
  public static OperatorRuntime start(KubernetesClient client, OperatorConfig config, List<ComputeProvider> providers,
      Map<String, String> off, RemoteHosts remoteHosts, List<? extends AutoCloseable> owned, PrometheusMeterRegistry meters) {
    PriceList prices;
    try {
      prices = PriceList.load(config.priceList());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the price list " + config.priceList() + ": " + e.getMessage(), e);
    }
    var metrics = new OperatorMetrics(meters);
    Clock clock = Clock.systemUTC();
    // probes of running jobs run on their own threads, so a slow machine never holds a reconcile thread
    var probes = ProbeRunner.pooled(config.probeThreads());
    // Events are written beside the reconciles, never by them (see BackgroundEventRecorder)
    var events = new BackgroundEventRecorder(client, EVENT_LANES, EVENT_QUEUE_PER_LANE);
    FunctionCounter.builder("trainingjob.events.dropped", events, BackgroundEventRecorder::dropped).tag("recorder", "operator")
        .description("Events not recorded because the API did not keep up with them").register(meters);
    var services = new JobContext.Services(config, new ProviderRegistry(config.defaultProvider(), providers, off), remoteHosts,
        new JobBundles(client), events, clock,
        new JobPrices(prices, spotPrices(providers)), metrics, new BudgetLedger(client, clock, metrics),
        new ShardClaim(client, config.shard()), probes);
    List<AutoCloseable> closing = new ArrayList<>(owned);
    closing.add(0, probes);
    closing.add(1, events); // after the reconciles have stopped: what they recorded last is still written
    Leadership leadership = new Leadership();
    Operator operator = OperatorFactory.create(client, config, services, leadership);
    operator.start();
    OperatorRuntime runtime = new OperatorRuntime(operator, remoteHosts, closing, meters, leadership, client, config, events);
    if (!config.leaderElection().enabled()) {
      leadership.started(); // the only replica leads
    }
    if (config.metricsPort() >= 0) {
      try {
        runtime.serve(new InetSocketAddress(config.metricsPort()));
      } catch (IOException e) {
        runtime.close();
        throw new UncheckedIOException("cannot serve metrics and health on port " + config.metricsPort(), e);
      }
    }
    LOG.info("operator {} started: shard {} (jobs {}), default provider {}, providers {}, namespaces {}, metrics {}, outputs {}",
        config.installId() == null ? "(no id)" : config.installId(), config.shardName(), Shard.labelSelector(config.shard()),
        config.defaultProvider() == null ? "none" : config.defaultProvider(), providers.stream().map(ComputeProvider::name).toList(),
        config.namespaces().isEmpty() ? "all" : config.namespaces(),
        runtime.metricsPort() < 0 ? "off" : "on port " + runtime.metricsPort(),
        // the file's path only, never what it holds
        config.outputsTokenFile() == null ? "off (no --outputs-token-file)" : "for holders of the token in " + config.outputsTokenFile());
    return runtime;
  }

  /**
   * Serves /metrics, /healthz, /readyz and the collected outputs ({@link OutputsEndpoint}) on {@code address}: what
   * {@code --metrics-port} starts on every interface, and the demo on the loopback interface only.
   */
  public synchronized int serve(InetSocketAddress address) throws IOException {
    KnownJobs jobs = KnownJobs.watch(client, config.namespaces());
    try {
      HealthServer http = new HealthServer(address, meters, () -> !closed, this::isHealthy,
          Map.of(OutputsEndpoint.PATH, new OutputsEndpoint(config.outputDir(), jobs,
              OutputsToken.from(config.outputsTokenFile()))));
      own(jobs);
      own(http); // closed first: no download is served from a folder whose job is no longer watched
      return http.port();
    } catch (IOException | RuntimeException e) {
      jobs.close();
      throw e;
    }
  }

  /** The port of /metrics, /healthz and /readyz; -1 when not served. */
  public synchronized int metricsPort() {
    return owned.stream().filter(HealthServer.class::isInstance).map(h -> ((HealthServer) h).port()).findFirst().orElse(-1);
  }

  /** Whether the operator reconciles: started, not closed, and every informer watching (what /readyz answers). */
  public boolean isHealthy() {
    return !closed && operator.getRuntimeInfo().isStarted() && operator.getRuntimeInfo().allEventSourcesAreHealthy();
  }

  /** Whether this replica leads, and what to start and stop with the lead. */
  public Leadership leadership() {
    return leadership;
  }

  public PrometheusMeterRegistry meters() {
    return meters;
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    leadership.stopped();
    operator.stop();
    remoteHosts.close();
    for (AutoCloseable c : owned) {
      try {
        c.close();
      } catch (Exception e) {
        LOG.warn("closing {}: {}", c, e.getMessage());
      }
    }
    LOG.info("operator stopped");
  }

  /** The provider that can tell spot prices (ec2), if this operator runs one. */
  private static SpotPrices spotPrices(List<ComputeProvider> providers) {
    return providers.stream().filter(SpotPrices.class::isInstance).map(SpotPrices.class::cast).findFirst().orElse(SpotPrices.NONE);
  }
}
