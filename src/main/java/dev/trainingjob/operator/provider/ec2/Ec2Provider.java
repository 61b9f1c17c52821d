package dev.trainingjob.operator.provider.ec2;

import dev.trainingjob.operator.job.Reason;

import dev.trainingjob.operator.api.CheckpointSpec;
import dev.trainingjob.operator.api.ComputeSpec;
import dev.trainingjob.operator.api.InstanceStatus;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.cost.SpotPrices;
import dev.trainingjob.operator.provider.ComputeProvider;
import dev.trainingjob.operator.provider.ExistingMachines;
import dev.trainingjob.operator.provider.Machine;
import dev.trainingjob.operator.job.EventRecorder;
import dev.trainingjob.operator.job.AttemptSpent;
import dev.trainingjob.operator.job.JobFailure;
import dev.trainingjob.operator.job.WaitAndRetry;
import dev.trainingjob.operator.job.WaitForTurn;
import dev.trainingjob.operator.remote.MachineAccess;
import dev.trainingjob.operator.remote.MachineDuties;
import dev.trainingjob.operator.remote.RemoteHost;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.RunInstancesRequest;

/**
 * An EC2 instance made for one job and terminated when the job ends. Everything it creates is
 * tagged with the job's uid and found again by it; the launch carries a ClientToken from the uid,
 * the attempt and the instance type, so a launch repeated after any crash returns the same
 * instance. Release keeps going until EC2 reports the instance terminated, then removes the
 * security group and the key Secret.
 */
public final class Ec2Provider implements ComputeProvider, SpotPrices {
  private static final Logger LOG = LoggerFactory.getLogger(Ec2Provider.class);
  /** How long a launched instance may stay invisible to DescribeInstances (EC2 is eventually consistent). */
  static final Duration VISIBILITY_GRACE = Duration.ofMinutes(2);
  /** TerminateInstances is idempotent; repeating it for the same instance sooner only adds calls. */
  private static final Duration TERMINATE_AGAIN_AFTER = Duration.ofSeconds(30);
  /** How long a launch that EC2 throttled after the SDK's retries waits before it asks again. */
  static final Duration THROTTLED_PAUSE = Duration.ofSeconds(10);
  /** The state reason of an instance EC2 took back: a spot interruption. */
  static final String SPOT_RECLAIMED = "Server.SpotInstanceTermination";

  private final Ec2Settings settings;
  private final String operatorId;
  private final Ec2Client ec2;
  private final InstanceView view;
  private final ImageCatalog images;
  private final SecurityGroups groups;
  private final JobKeys keys;
  private final Ec2Access access;
  private final HostKeyRotation hostKeys;
  private final Ec2Admission admission;
  private final EventRecorder events;
  private final SpotPriceBook spotPrices;
  private final Path outputRoot;
  private final Clock clock;
  /** Whose turn it is to launch: RunInstances tokens are the scarcest of EC2's API limits. */
  private final LaunchLine launches;
  private final Ec2Pacing pacing;
  /** Launches this process made, by uid: what RunInstances answered, until DescribeInstances shows it. */
  private final Map<String, InstanceView.Instance> launched = new ConcurrentHashMap<>();
  /** When termination was last asked for, by instance id: asked again only after an interval. */
  private final Map<String, Instant> terminating = new ConcurrentHashMap<>();

  public Ec2Provider(Ec2Settings settings, String operatorId, Duration pollInterval, Ec2Clients clients,
      io.fabric8.kubernetes.client.KubernetesClient kubernetes, EventRecorder events, Path outputRoot, Clock clock) {
    this.settings = settings;
    // the scope of everything this provider sees and does on AWS: never one another install may share
    this.operatorId = OperatorId.require(operatorId);
    this.ec2 = clients.ec2();
    this.view = new InstanceView(ec2, operatorId, pollInterval, clock);
    this.images = new ImageCatalog(ec2, clients.ssm());
    this.groups = new SecurityGroups(ec2, settings, operatorId);
    this.keys = new JobKeys(kubernetes);
    this.access = new Ec2Access(keys, settings.sshPort());
    this.hostKeys = new HostKeyRotation(keys, events);
    this.admission = new Ec2Admission(ec2, images, settings, events);
    this.events = events;
    this.spotPrices = new SpotPriceBook(ec2, clock);
    this.outputRoot = outputRoot.toAbsolutePath();
    this.clock = clock;
    this.pacing = clients.pacing();
    this.launches = new LaunchLine(pacing, Clock.systemUTC());
  }

  @Override
  public String name() {
    return "ec2";
  }

  /** The spot price of one of this install's instances, in its zone (from the shared view; one EC2 call per type and zone an hour). */
  @Override
  public Optional<Double> hourly(String instanceId, String instanceType) {
    return view.current().byId(instanceId).filter(i -> i.zone() != null)
        .flatMap(i -> spotPrices.hourly(instanceType, i.zone()));
  }

  InstanceView view() {
    return view;
  }

  SecurityGroups groups() {
    return groups;
  }

  // ---- admit / ensure / describe

  @Override
  public ComputeSpec admit(TrainingJob job) {
    return admission.admit(job);
  }

  @Override
  public Machine ensure(TrainingJob job) throws Exception {
    Optional<Machine> existing = describe(job);
    if (existing.isPresent()) {
      return existing.get();
    }
    return machine(launch(job), null);
  }

  @Override
  public Optional<Machine> describe(TrainingJob job) {
    String uid = job.getMetadata().getUid();
    List<InstanceView.Instance> mine = view.current().forUid(uid);
    // an earlier attempt's instance (a spot interruption in its last two minutes) is never the job's machine again
    Set<String> retired = retired(job);
    List<InstanceView.Instance> stale = mine.stream().filter(i -> retired.contains(i.id()) && i.exists()
        && !"shutting-down".equals(i.state())).toList();
    if (!stale.isEmpty()) {
      terminate(stale.stream().map(InstanceView.Instance::id).toList());
    }
    mine = mine.stream().filter(i -> !retired.contains(i.id())).toList();
    List<InstanceView.Instance> usable = mine.stream().filter(InstanceView.Instance::usable).toList();
    if (!usable.isEmpty()) {
      launched.remove(uid);
      return Optional.of(machine(keepOne(job, usable), null));
    }
    InstanceView.Instance recent = launched.get(uid);
    if (recent != null && !retired.contains(recent.id()) && withinGrace(recent.launchTime())) {
      return Optional.of(machine(recent, "Instance " + recent.id() + " was launched; waiting for EC2 to list it"));
    }
    InstanceStatus known = job.getStatus() == null ? null : job.getStatus().instance;
    if (known != null && known.id != null) {
      Optional<InstanceView.Instance> seen = mine.stream().filter(i -> i.id().equals(known.id)).findFirst();
      if (seen.isEmpty() && known.launchedAt != null && withinGrace(Instant.parse(known.launchedAt))) {
        return Optional.of(new Machine(known.id, known.type, Machine.State.PENDING, null, known.sshUser, known.launchedAt,
            "Instance " + known.id + " was launched; waiting for EC2 to list it"));
      }
      InstanceView.Instance gone = seen.orElseGet(() -> view.describe(known.id, uid).orElse(null));
      if (gone == null || !gone.usable()) {
        return Optional.of(new Machine(known.id, known.type, Machine.State.GONE, null, known.sshUser, known.launchedAt,
            "Instance " + known.id + " is " + (gone == null ? "gone" : gone.state()
                + (gone.stateReason() == null ? "" : " (" + gone.stateReason() + ")")),
            Boolean.TRUE.equals(known.spot), gone != null && gone.stateReason() != null
                && gone.stateReason().startsWith(SPOT_RECLAIMED)));
      }
      return Optional.of(machine(gone, null));
    }
    return Optional.empty();
  }

  /** The instances of earlier attempts: those status.attempts names, but the machine the job holds now. */
  private static Set<String> retired(TrainingJob job) {
    var status = job.getStatus();
    if (status == null || status.attempts == null) {
      return Set.of();
    }
    String current = status.instance == null ? null : status.instance.id;
    return status.attempts.stream().map(a -> a.instanceId).filter(id -> id != null && !id.equals(current))
        .collect(java.util.stream.Collectors.toSet());
  }

  /** More than one live instance for a job can only come from a race; keep one, terminate the rest. */
  private InstanceView.Instance keepOne(TrainingJob job, List<InstanceView.Instance> usable) {
    if (usable.size() == 1) {
      return usable.get(0);
    }
    InstanceStatus known = job.getStatus() == null ? null : job.getStatus().instance;
    InstanceView.Instance keep = usable.stream().filter(i -> known != null && i.id().equals(known.id)).findFirst()
        .orElseGet(() -> usable.stream().min(Comparator.comparing(InstanceView.Instance::launchTime)).orElseThrow());
    List<String> extra = usable.stream().map(InstanceView.Instance::id).filter(id -> !id.equals(keep.id())).toList();
    terminate(extra);
    events.warning(job, Reason.DuplicateInstance, "Terminated " + extra + ": the job keeps " + keep.id());
    return keep;
  }

  private Machine machine(InstanceView.Instance i, String message) {
    Machine.State state = switch (i.state()) {
      case "pending" -> Machine.State.PENDING;
      case "running" -> Machine.State.RUNNING;
      default -> Machine.State.GONE;
    };
    String address = settings.privateAddress() || i.publicIp() == null ? i.privateIp() : i.publicIp();
    String text = message;
    if (text == null && state == Machine.State.PENDING) {
      text = "Instance " + i.id() + " (" + i.type() + ") is pending";
    }
    return new Machine(i.id(), i.type(), state, state == Machine.State.RUNNING ? address : null, i.sshUser(),
        i.launchTime() == null ? null : i.launchTime().toString(), text, i.spot());
  }

  // ---- launch

  private InstanceView.Instance launch(TrainingJob job) throws Exception {
    ComputeSpec.Ec2Spec spec = job.admittedCompute().ec2;
    Ec2Admission.checkConfigured(job, settings);
    // again at every launch: the allowances may have changed since admission (an operator restarted with new ones)
    Ec2Admission.checkAllowance(job, spec, settings);
    waitForTurn(job);
    JobKeys.Keys jobKeys = keys.forLaunch(job, LaunchRequest.launchNumber(job));
    ImageCatalog.ResolvedImage image = images.resolve(spec.image);
    String user = sshUser(spec, image);
    var subnet = spec.subnetId == null ? null
        : ec2.describeSubnets(r -> r.subnetIds(spec.subnetId)).subnets().stream().findFirst()
            .orElseThrow(() -> new JobFailure(Reason.InvalidSpec, "spec.compute.ec2.subnetId: subnet " + spec.subnetId + " does not exist"));
    String vpcId = subnet == null ? null : subnet.vpcId();
    // a subnet that gives no public address: ask for one, or SSH times out without saying why
    boolean askPublicIp = subnet != null && !settings.privateAddress() && !Boolean.TRUE.equals(subnet.mapPublicIpOnLaunch());
    String groupId = groups.ensure(job, vpcId);
    String userData = CloudInit.encoded(CloudInit.userData(jobKeys, user, image.defaultUser() == null ? user : image.defaultUser(),
        MachineGuard.of(settings)));
    List<String> types = Ec2Admission.allTypes(spec);
    boolean spot = LaunchRequest.spot(job);
    boolean first = true; // the call of the job's turn; each further one (a fallback type) delays the turns after it
    List<String> noCapacity = new ArrayList<>();
    List<String> unusable = new ArrayList<>();
    java.util.Map<String, String> quotaHit = new java.util.LinkedHashMap<>(); // bucket -> what EC2 said
    for (int i = 0; i < types.size(); i++) {
      String type = types.get(i);
      Ec2Errors.Quota quota = Ec2Errors.quota(type);
      if (quotaHit.containsKey(quota.bucket())) {
        continue; // the same quota refuses every type of its bucket: try another family
      }
      RunInstancesRequest request = LaunchRequest.build(job, settings, operatorId, image, user, type, i, groupId, userData,
          askPublicIp);
      if (!first) {
        launches.anotherCall();
      }
      first = false;
      try {
        var response = ec2.runInstances(request);
        InstanceView.Instance instance = InstanceView.of(response.instances().get(0));
        if (!instance.usable()) {
          // the token's instance, answered again, is already gone (EC2 did so before IdempotentInstanceTerminated)
          throw new AttemptSpent("the launch token " + request.clientToken() + " belongs to instance " + instance.id()
              + ", now " + instance.state());
        }
        launched.put(job.getMetadata().getUid(), instance);
        LOG.info("{}: launched {} ({}, {}) with client token {}", job.ref(), instance.id(), type, image.amiId(), request.clientToken());
        List<String> refused = new ArrayList<>(noCapacity);
        refused.addAll(unusable);
        quotaHit.forEach((bucket, said) -> refused.add(said));
        String note = refused.isEmpty() ? "" : " after " + String.join(", ", refused);
        events.normal(job, Reason.Launched, "Launched " + instance.id() + " (" + type + ", " + image.amiId() + ")" + note);
        if (!refused.isEmpty()) {
          events.warning(job, Reason.FallbackInstanceType, "Using fallback instance type " + type + note);
        }
        return instance;
      } catch (AwsServiceException e) {
        String code = Ec2Errors.code(e);
        String said = type + " (" + code + ")";
        switch (Ec2Errors.classify(e)) {
          case CAPACITY -> noCapacity.add(said);
          case QUOTA -> quotaHit.put(quota.bucket(), said);
          case TYPE_UNUSABLE -> unusable.add(type + " (" + code + ": " + Ec2Errors.message(e) + ")");
          case IMAGE -> throw new JobFailure(Reason.InvalidSpec, "spec.compute.ec2.image: EC2 cannot launch image " + image.amiId()
              + ": " + code + ": " + Ec2Errors.message(e));
          case SUBNET -> throw new JobFailure(Reason.InvalidSpec, "spec.compute.ec2.subnetId: " + code + ": " + Ec2Errors.message(e));
          case VOLUME -> throw new JobFailure(Reason.InvalidSpec, "spec.compute.ec2.volumeSizeGiB: " + code + ": " + Ec2Errors.message(e));
          case UNAUTHORIZED -> throw unauthorized("RunInstances", e);
          case SPOT_ROLE -> throw spotRoleMissing(e);
          case TOKEN_USED -> {
            return tokenUsed(job, request.clientToken(), code);
          }
          case THROTTLED -> throw new WaitForTurn("EC2 refused RunInstances with " + code + " even after the SDK's retries: "
              + "another client of the account uses the same API limits (this operator launches at most "
              + Ec2ApiLimits.format(pacing.paced(LaunchLine.ACTION).refillPerSecond()) + " a second; --ec2-api-share gives it less of "
              + "them); launching again in " + THROTTLED_PAUSE.toSeconds() + "s", THROTTLED_PAUSE);
          default -> throw e;
        }
        LOG.warn("{}: {} cannot be launched now: {}: {}", job.ref(), type, code, Ec2Errors.message(e));
        events.warning(job, Reason.InstanceTypeUnavailable, type + " cannot be launched now: " + code + ": " + Ec2Errors.message(e));
      }
    }
    String refusedQuota = quotaHit.isEmpty() ? "" : "; quota: " + String.join(", ", quotaHit.values());
    String refusedTypes = unusable.isEmpty() ? "" : "; not launchable: " + String.join(", ", unusable);
    if (!noCapacity.isEmpty()) {
      // capacity comes and goes: the whole list is tried again after a pause, until the pending deadline
      throw new WaitAndRetry(Reason.NoCapacity, "no capacity for " + String.join(", ", noCapacity) + refusedQuota + refusedTypes);
    }
    if (!quotaHit.isEmpty()) {
      List<String> quotas = quotaHit.keySet().stream().map(b -> types.stream().filter(t -> Ec2Errors.quota(t).bucket().equals(b))
          .findFirst().map(Ec2Errors::quota).orElseThrow()).map(q -> q.describe(spot) + " — raise it with: " + q.increaseCommand(spot))
          .toList();
      throw new JobFailure(Reason.QuotaExceeded, "the account's EC2 quota allows none of the instance types: "
          + String.join(", ", quotaHit.values()) + refusedTypes + ". Quota: " + String.join("; ", quotas)
          + " (or add a fallback type of another family to spec.compute.ec2.fallbackInstanceTypes)");
    }
    throw new JobFailure(Reason.InvalidSpec, "spec.compute.ec2.instanceType: no instance type the spec allows can be launched here: "
        + String.join(", ", unusable));
  }

  /**
   * Launches wait their turn in the install's launch line, so that a burst of jobs stays inside EC2's RunInstances limit
   * without RequestLimitExceeded; a job whose turn has not come is told when to look again, and says so in its status.
   */
  private void waitForTurn(TrainingJob job) {
    LaunchLine.Turn turn = launches.take(job.getMetadata().getUid());
    if (turn.now()) {
      return;
    }
    Ec2ApiLimits.Bucket rate = pacing.paced(LaunchLine.ACTION);
    long seconds = Math.max(1, (turn.pause().toMillis() + 999) / 1000);
    String place = turn.ahead() == 0 ? "first" : turn.ahead() + (turn.ahead() == 1 ? " job" : " jobs") + " ahead";
    throw new WaitForTurn("Waiting for a turn to launch: " + place + " in this operator's launch line; EC2's API limits let it "
        + "launch " + Ec2ApiLimits.format(rate.refillPerSecond()) + " a second (RunInstances; --ec2-api-limits); next look in "
        + seconds + "s", turn.pause());
  }

  /** UnauthorizedOperation carries an encoded explanation only the account can read: say how. */
  static JobFailure unauthorized(String action, AwsServiceException e) {
    return new JobFailure(Reason.Unauthorized, "the operator's AWS role may not call " + action + ": " + Ec2Errors.message(e)
        + " — decode the message with: aws sts decode-authorization-message --encoded-message <message> "
        + "(and compare the role's policy with deploy/iam/trainingjob-operator-policy.json)");
  }

  private static JobFailure spotRoleMissing(AwsServiceException e) {
    return new JobFailure(Reason.SpotRoleMissing, "spot instances need the EC2 Spot service-linked role, and the operator may not "
        + "create it (" + Ec2Errors.message(e) + "): create it once per account with "
        + "'aws iam create-service-linked-role --aws-service-name spot.amazonaws.com', or set spec.compute.ec2.spot to false");
  }

  /**
   * The token already launched an instance: terminated since (IdempotentInstanceTerminated), or
   * with parameters that changed since (IdempotentParameterMismatch: the image parameter moved on).
   * Found by the client-token filter (tags of terminated instances go after a while): a live one is
   * the job's; a gone one spends the attempt, and the step records the next before launching.
   */
  private InstanceView.Instance tokenUsed(TrainingJob job, String token, String code) {
    Optional<InstanceView.Instance> holder = view.byClientToken(token);
    if (holder.isPresent() && holder.get().usable()) {
      launched.put(job.getMetadata().getUid(), holder.get());
      LOG.info("{}: client token {} belongs to {} ({}): the job keeps it", job.ref(), token, holder.get().id(), code);
      return holder.get();
    }
    throw new AttemptSpent("the launch token " + token + " belongs to " + holder.map(i -> "instance " + i.id() + ", now "
        + i.state()).orElse("an instance EC2 no longer lists") + " (" + code + ")");
  }

  private static String sshUser(ComputeSpec.Ec2Spec spec, ImageCatalog.ResolvedImage image) {
    if (spec.sshUser != null && !spec.sshUser.isBlank()) {
      return spec.sshUser;
    }
    if (image.defaultUser() == null) {
      throw new JobFailure(Reason.UnknownSshUser, "cannot tell the SSH user of image " + image.amiId() + " (" + image.name()
          + "): set spec.compute.ec2.sshUser");
    }
    return image.defaultUser();
  }

  // ---- SSH, outputs, duties

  @Override
  public MachineAccess access(TrainingJob job, InstanceStatus instance) throws Exception {
    return access.access(job, instance);
  }

  /** The first verified connection replaces the host key the user data carried: see HostKeyRotation. */
  @Override
  public boolean afterConnect(TrainingJob job, RemoteHost remote) throws Exception {
    return hostKeys.afterConnect(job, remote);
  }

  @Override
  public Optional<Path> outputDirectory(TrainingJob job) {
    // with an S3 URI the instance copies its outputs there itself; this is where they come when that copy could not be made
    return Optional.of(ExistingMachines.outputDirectory(outputRoot, job));
  }

  @Override
  public MachineDuties duties(TrainingJob job) {
    // the spec may have changed since admission, and s3Uri is read from it here: a prefix edited to another
    // namespace's while the instance booted is refused before anything is uploaded
    Ec2Admission.checkAllowance(job, job.admittedCompute().ec2, settings);
    return new MachineDuties(MachineGuard.FEED_DIRECTORY, ceilingSeconds(job), outputUri(job),
        CheckpointSpec.s3UriOf(job.getSpec().checkpoint, job.getSpec().output), settings.metadataUrl());
  }

  /**
   * The power-off ceiling of this instance, from its driver's start: the runtime left to the job (spec.limits.maxRuntimeSeconds
   * counts every attempt together, from the first one's start, but not the time the job spent suspended), plus the shutdown
   * grace.
   */
  private Long ceilingSeconds(TrainingJob job) {
    Long full = MachineGuard.ceilingSeconds(job.getSpec().limits, settings.shutdownGrace());
    var timings = job.getStatus() == null ? null : job.getStatus().timings;
    if (full == null || timings == null || timings.bootstrapped == null) {
      return full;
    }
    // as Deadlines.runtimeLeft: a resumed job's new instance must not power itself off for the time the job was away
    long suspended = timings.suspendedSeconds == null ? 0 : timings.suspendedSeconds;
    long used = Duration.between(Instant.parse(timings.bootstrapped), clock.instant()).toSeconds() - suspended;
    return Math.max(settings.shutdownGrace().toSeconds(), full - Math.max(0, used));
  }

  private static String outputUri(TrainingJob job) {
    return job.getSpec().output == null ? null : job.getSpec().output.s3Uri;
  }

  // ---- release

  @Override
  public boolean release(TrainingJob job) throws Exception {
    String uid = job.getMetadata().getUid();
    launches.leave(uid); // a job that ended while it waited for its turn holds up no one
    List<InstanceView.Instance> mine = new ArrayList<>(view.current().forUid(uid));
    InstanceStatus known = job.getStatus() == null ? null : job.getStatus().instance;
    InstanceView.Instance recent = launched.get(uid);
    if (known != null && known.id != null && mine.stream().noneMatch(i -> i.id().equals(known.id))) {
      // not in the shared view: ask for it alone; not found shortly after launch only means "not listed yet"
      Optional<InstanceView.Instance> one = view.describe(known.id, uid);
      if (one.isPresent()) {
        mine.add(one.get());
      } else if (known.launchedAt != null && withinGrace(Instant.parse(known.launchedAt))) {
        return false;
      }
    }
    if (recent != null && mine.stream().noneMatch(i -> i.id().equals(recent.id()))) {
      if (withinGrace(recent.launchTime())) {
        terminate(List.of(recent.id()));
        return false;
      }
    }
    List<InstanceView.Instance> alive = mine.stream().filter(InstanceView.Instance::exists).toList();
    if (!alive.isEmpty()) {
      terminate(alive.stream().filter(i -> !"shutting-down".equals(i.state())).map(InstanceView.Instance::id).toList());
      return false;
    }
    Optional<String> group = groups.find(job).map(g -> g.groupId());
    if (group.isPresent() && !groups.delete(group.get())) {
      LOG.info("{}: security group {} is still in use (the network interface is detaching); trying again", job.ref(), group.get());
      return false;
    }
    keys.delete(job);
    launched.remove(uid);
    mine.forEach(i -> terminating.remove(i.id()));
    return true;
  }

  /** Asks EC2 to terminate; asked again for the same instance only after the poll interval. */
  void terminate(List<String> ids) {
    Instant now = clock.instant();
    List<String> ask = ids.stream().filter(id -> {
      Instant last = terminating.get(id);
      return last == null || Duration.between(last, now).compareTo(TERMINATE_AGAIN_AFTER) >= 0;
    }).toList();
    if (ask.isEmpty()) {
      return;
    }
    try {
      ec2.terminateInstances(r -> r.instanceIds(ask));
    } catch (AwsServiceException e) {
      if (!"InvalidInstanceID.NotFound".equals(Ec2Errors.code(e))) {
        throw e;
      }
    }
    ask.forEach(id -> terminating.put(id, now));
    LOG.info("asked EC2 to terminate {}", ask);
  }

  private boolean withinGrace(Instant launchedAt) {
    return launchedAt != null && Duration.between(launchedAt, clock.instant()).compareTo(VISIBILITY_GRACE) < 0;
  }
}
