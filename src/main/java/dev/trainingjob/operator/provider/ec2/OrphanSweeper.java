package dev.trainingjob.operator.provider.ec2;

import dev.trainingjob.operator.job.Reason;

import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.job.EventRecorder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
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
 * launch and status), and so is a second instance of a live job that runs on another one (a launch
 * race). Their security groups follow once the instances are gone. Only namespaces
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
    Map<String, String> live = liveJobs();
    List<String> orphans = new ArrayList<>();
    for (InstanceView.Instance i : view.all()) {
      if (!i.exists() || "shutting-down".equals(i.state()) || !judged(i.namespace())) {
        continue;
      }
      if (i.launchTime() != null && Duration.between(i.launchTime(), clock.instant()).compareTo(grace) < 0) {
        continue; // a launch whose job the API has not shown us yet, or whose status is not written yet
      }
      if (!live.containsKey(i.uid())) {
        orphans.add(i.id());
        LOG.warn("terminating orphaned instance {} ({}): TrainingJob {}/{} (uid {}) no longer exists", i.id(), i.type(),
            i.namespace(), i.name(), i.uid());
        event(i, Reason.OrphanTerminated, "its TrainingJob no longer exists");
      } else if (live.get(i.uid()) != null && !live.get(i.uid()).equals(i.id())) {
        // a second instance for a live job (a launch race): the job uses the one in its status
        orphans.add(i.id());
        LOG.warn("terminating instance {} ({}): TrainingJob {}/{} runs on {}", i.id(), i.type(), i.namespace(), i.name(),
            live.get(i.uid()));
        event(i, Reason.DuplicateInstance, "its TrainingJob runs on " + live.get(i.uid()));
      }
    }
    if (!orphans.isEmpty()) {
      provider.terminate(orphans);
      terminated.increment(orphans.size());
    }
    sweepGroups(view, live.keySet());
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

  /** Live jobs' uids, each with the instance its status names (null before it names one). */
  private Map<String, String> liveJobs() {
    Map<String, String> jobs = new HashMap<>();
    var resources = kubernetes.resources(TrainingJob.class);
    List<TrainingJob> all = new ArrayList<>();
    if (namespaces.isEmpty()) {
      all.addAll(resources.inAnyNamespace().list().getItems());
    } else {
      for (String ns : namespaces) {
        all.addAll(resources.inNamespace(ns).list().getItems());
      }
    }
    for (TrainingJob j : all) {
      var instance = j.getStatus() == null ? null : j.getStatus().instance;
      jobs.put(j.getMetadata().getUid(), instance == null ? null : instance.id);
    }
    return jobs;
  }

  private boolean judged(String namespace) {
    return namespace != null && (namespaces.isEmpty() || namespaces.contains(namespace));
  }

  /** An Event on the vanished job's name, so `kubectl get events` in its namespace tells what happened. */
  private void event(InstanceView.Instance i, Reason reason, String why) {
    if (i.name() == null) {
      return;
    }
    try {
      TrainingJob gone = new TrainingJob();
      gone.setMetadata(new ObjectMetaBuilder().withName(i.name()).withNamespace(i.namespace()).withUid(i.uid()).build());
      events.warning(gone, reason, "Terminated instance " + i.id() + " (" + i.type() + "): " + why);
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
