package dev.trainingjob.operator.provider.ec2;

import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.reconciler.EventRecorder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last line of defence against paying for a machine nobody owns: instances tagged with this
 * operator's id whose uid matches no live TrainingJob, older than a grace period, are terminated
 * (a resource deleted while the operator was down, a finalizer removed by hand, a crash between
 * launch and status). Their security groups follow once the instances are gone. Only namespaces
 * this operator watches are judged: a job elsewhere is not ours to know about.
 */
public final class OrphanSweeper implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(OrphanSweeper.class);

  private final Ec2Provider provider;
  private final KubernetesClient kubernetes;
  private final Set<String> namespaces;
  private final Duration grace;
  private final EventRecorder events;
  private final Clock clock;
  private final Counter terminated;
  private ScheduledExecutorService timer;

  public OrphanSweeper(Ec2Provider provider, KubernetesClient kubernetes, Set<String> namespaces, Duration grace,
      EventRecorder events, MeterRegistry meters, Clock clock) {
    this.provider = provider;
    this.kubernetes = kubernetes;
    this.namespaces = namespaces;
    this.grace = grace;
    this.events = events;
    this.clock = clock;
    this.terminated = Counter.builder("trainingjob.orphans.terminated")
        .description("Instances terminated because no TrainingJob owned them").register(meters);
  }

  /** Sweeps now and then every interval, on a thread of its own, until stopped (started again, it resumes). */
  public synchronized OrphanSweeper start(Duration interval) {
    if (timer != null) {
      return this;
    }
    timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "ec2-orphan-sweeper");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleWithFixedDelay(() -> {
      try {
        sweep();
      } catch (RuntimeException e) {
        LOG.warn("orphan sweep failed; trying again in {}: {}", interval, e.getMessage());
      }
    }, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  /** Stops sweeping (this replica no longer leads). */
  public synchronized void stop() {
    if (timer != null) {
      timer.shutdownNow();
      timer = null;
    }
  }

  /** One sweep; returns the ids of the instances it terminated. */
  public List<String> sweep() {
    InstanceView.Snapshot view = provider.view().fresh();
    Set<String> live = liveUids();
    List<String> orphans = new ArrayList<>();
    for (InstanceView.Instance i : view.all()) {
      if (!i.exists() || "shutting-down".equals(i.state()) || !judged(i.namespace()) || live.contains(i.uid())) {
        continue;
      }
      if (i.launchTime() != null && Duration.between(i.launchTime(), clock.instant()).compareTo(grace) < 0) {
        continue; // a launch whose job the API has not shown us yet
      }
      orphans.add(i.id());
      LOG.warn("terminating orphaned instance {} ({}): TrainingJob {}/{} (uid {}) no longer exists", i.id(), i.type(),
          i.namespace(), i.name(), i.uid());
      event(i);
    }
    if (!orphans.isEmpty()) {
      provider.terminate(orphans);
      terminated.increment(orphans.size());
    }
    sweepGroups(view, live);
    return orphans;
  }

  /** Groups of jobs that are gone, once no instance holds them any more. */
  private void sweepGroups(InstanceView.Snapshot view, Set<String> live) {
    for (var group : provider.groups().allManaged()) {
      String uid = tag(group.tags(), Ec2Tags.UID);
      String ns = tag(group.tags(), Ec2Tags.NAMESPACE);
      if (uid == null || live.contains(uid) || !judged(ns)) {
        continue;
      }
      boolean held = view.forUid(uid).stream().anyMatch(InstanceView.Instance::exists);
      if (!held && provider.groups().delete(group.groupId())) {
        LOG.info("deleted security group {} of a TrainingJob that no longer exists (uid {})", group.groupId(), uid);
      }
    }
  }

  private Set<String> liveUids() {
    Set<String> uids = new HashSet<>();
    var resources = kubernetes.resources(TrainingJob.class);
    if (namespaces.isEmpty()) {
      resources.inAnyNamespace().list().getItems().forEach(j -> uids.add(j.getMetadata().getUid()));
    } else {
      for (String ns : namespaces) {
        resources.inNamespace(ns).list().getItems().forEach(j -> uids.add(j.getMetadata().getUid()));
      }
    }
    return uids;
  }

  private boolean judged(String namespace) {
    return namespace != null && (namespaces.isEmpty() || namespaces.contains(namespace));
  }

  /** An Event on the vanished job's name, so `kubectl get events` in its namespace tells what happened. */
  private void event(InstanceView.Instance i) {
    if (i.name() == null) {
      return;
    }
    try {
      TrainingJob gone = new TrainingJob();
      gone.setMetadata(new ObjectMetaBuilder().withName(i.name()).withNamespace(i.namespace()).withUid(i.uid()).build());
      events.warning(gone, "OrphanTerminated", "Terminated instance " + i.id() + " (" + i.type()
          + "): its TrainingJob no longer exists");
    } catch (RuntimeException e) {
      LOG.debug("no event for orphan {}: {}", i.id(), e.getMessage());
    }
  }

  private static String tag(List<software.amazon.awssdk.services.ec2.model.Tag> tags, String key) {
    return tags.stream().filter(t -> key.equals(t.key())).map(t -> t.value()).findFirst().orElse(null);
  }

  @Override
  public void close() {
    stop();
  }
}
