package dev.trainingjob.operator.provider.ec2;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Tag;

/**
 * Every instance this operator manages, from one paginated DescribeInstances filtered by the
 * managed-by tag, taken at most once per interval and shared by all jobs' reconciles: the cost of
 * watching grows with the number of intervals, not the number of jobs.
 */
final class InstanceView {
  /** What the provider needs of an instance. */
  record Instance(String id, String type, String state, String publicIp, String privateIp, Instant launchTime,
      String uid, String namespace, String name, String sshUser, boolean spot, String stateReason, String managedBy, String zone) {
    /** Pending or running: a machine that costs money and may serve the job. */
    boolean usable() {
      return "pending".equals(state) || "running".equals(state);
    }

    /** Not terminated yet (shutting-down, stopping and stopped still hold the security group). */
    boolean exists() {
      return !"terminated".equals(state);
    }
  }

  record Snapshot(Instant takenAt, List<Instance> all) {
    List<Instance> forUid(String uid) {
      return all.stream().filter(i -> uid.equals(i.uid())).toList();
    }

    Optional<Instance> byId(String id) {
      return all.stream().filter(i -> i.id().equals(id)).findFirst();
    }
  }

  private final Ec2Client ec2;
  private final String operatorId;
  private final Duration maxAge;
  private final Clock clock;
  private Snapshot snapshot;

  InstanceView(Ec2Client ec2, String operatorId, Duration maxAge, Clock clock) {
    this.ec2 = ec2;
    this.operatorId = operatorId;
    this.maxAge = maxAge;
    this.clock = clock;
  }

  /** The shared view, refreshed when older than the interval. */
  synchronized Snapshot current() {
    if (snapshot == null || Duration.between(snapshot.takenAt(), clock.instant()).compareTo(maxAge) >= 0) {
      snapshot = take();
    }
    return snapshot;
  }

  /** A view taken now (the sweeper, which must not act on a stale one). */
  synchronized Snapshot fresh() {
    snapshot = take();
    return snapshot;
  }

  private Snapshot take() {
    Instant at = clock.instant();
    List<Instance> all = new ArrayList<>();
    ec2.describeInstancesPaginator(r -> r.maxResults(1000)
            .filters(Filter.builder().name(Ec2Tags.filter(Ec2Tags.MANAGED_BY)).values(operatorId).build()))
        .reservations().forEach(res -> res.instances().forEach(i -> all.add(of(i))));
    return new Snapshot(at, List.copyOf(all));
  }

  /**
   * One instance by id, outside the shared view: for an id the view does not show. Empty when EC2
   * does not know it (which, shortly after a launch, only means "not visible yet"), and when it is
   * not this operator's: the id comes from a job's status, which a restored backup or another
   * cluster's copy of the job may carry, and what is not ours is never described, let alone released.
   * Ours is not enough either: it must be the job's ({@code uid}), or a status written by someone who
   * may write it would make one job release another's instance in the same install.
   */
  Optional<Instance> describe(String instanceId, String uid) {
    try {
      return ec2.describeInstances(r -> r.instanceIds(instanceId)).reservations().stream()
          .flatMap(res -> res.instances().stream()).findFirst().map(InstanceView::of).filter(this::ours)
          .filter(i -> uid.equals(i.uid()) || (i.uid() == null && !i.exists()));
    } catch (AwsServiceException e) {
      if ("InvalidInstanceID.NotFound".equals(Ec2Errors.code(e))) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /**
   * The instance a ClientToken launched, whatever its tags say (EC2 drops the tags of terminated
   * instances after a while): the live one if any, else the latest. Empty when EC2 lists none.
   */
  Optional<Instance> byClientToken(String token) {
    List<Instance> found = new ArrayList<>();
    ec2.describeInstancesPaginator(r -> r.maxResults(1000)
            .filters(Filter.builder().name("client-token").values(token).build()))
        .reservations().forEach(res -> res.instances().forEach(i -> found.add(of(i))));
    found.removeIf(i -> !ours(i));
    return found.stream().filter(Instance::usable).findFirst()
        .or(() -> found.stream().max(java.util.Comparator.comparing(Instance::launchTime)));
  }

  /**
   * Carries this operator's id; or is terminated with its tags dropped (EC2 drops them after a while), which says what
   * became of an instance and leaves nothing to act on.
   */
  private boolean ours(Instance i) {
    return operatorId.equals(i.managedBy()) || (i.managedBy() == null && !i.exists());
  }

  static Instance of(software.amazon.awssdk.services.ec2.model.Instance i) {
    Map<String, String> tags = new HashMap<>();
    for (Tag t : i.tags()) {
      tags.put(t.key(), t.value());
    }
    return new Instance(i.instanceId(), i.instanceTypeAsString(), i.state() == null ? "pending" : i.state().nameAsString(),
        i.publicIpAddress(), i.privateIpAddress(), i.launchTime(), tags.get(Ec2Tags.UID), tags.get(Ec2Tags.NAMESPACE),
        tags.get(Ec2Tags.NAME), tags.get(Ec2Tags.SSH_USER), "spot".equals(i.instanceLifecycleAsString()),
        i.stateReason() == null ? null : i.stateReason().message(), tags.get(Ec2Tags.MANAGED_BY),
        i.placement() == null ? null : i.placement().availabilityZone());
  }
}
