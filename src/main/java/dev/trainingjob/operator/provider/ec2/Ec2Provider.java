package dev.trainingjob.operator.provider.ec2;

import dev.trainingjob.operator.job.Reason;

import dev.trainingjob.operator.api.ComputeSpec;
import dev.trainingjob.operator.api.InstanceStatus;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.provider.ComputeProvider;
import dev.trainingjob.operator.provider.ExistingMachines;
import dev.trainingjob.operator.provider.Machine;
import dev.trainingjob.operator.job.EventRecorder;
import dev.trainingjob.operator.job.JobFailure;
import dev.trainingjob.operator.remote.MachineAccess;
import dev.trainingjob.operator.remote.MachineDuties;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
public final class Ec2Provider implements ComputeProvider {
  private static final Logger LOG = LoggerFactory.getLogger(Ec2Provider.class);
  /** How long a launched instance may stay invisible to DescribeInstances (EC2 is eventually consistent). */
  static final Duration VISIBILITY_GRACE = Duration.ofMinutes(2);
  /** TerminateInstances is idempotent; repeating it for the same instance sooner only adds calls. */
  private static final Duration TERMINATE_AGAIN_AFTER = Duration.ofSeconds(30);

  private final Ec2Settings settings;
  private final String operatorId;
  private final Ec2Client ec2;
  private final InstanceView view;
  private final ImageCatalog images;
  private final SecurityGroups groups;
  private final JobKeys keys;
  private final Ec2Access access;
  private final EventRecorder events;
  private final Path outputRoot;
  private final Clock clock;
  /** Launches this process made, by uid: what RunInstances answered, until DescribeInstances shows it. */
  private final Map<String, InstanceView.Instance> launched = new ConcurrentHashMap<>();
  /** When termination was last asked for, by instance id: asked again only after an interval. */
  private final Map<String, Instant> terminating = new ConcurrentHashMap<>();

  public Ec2Provider(Ec2Settings settings, String operatorId, Duration pollInterval, Ec2Clients clients,
      io.fabric8.kubernetes.client.KubernetesClient kubernetes, EventRecorder events, Path outputRoot, Clock clock) {
    this.settings = settings;
    this.operatorId = operatorId;
    this.ec2 = clients.ec2();
    this.view = new InstanceView(ec2, operatorId, pollInterval, clock);
    this.images = new ImageCatalog(ec2, clients.ssm());
    this.groups = new SecurityGroups(ec2, settings, operatorId);
    this.keys = new JobKeys(kubernetes);
    this.access = new Ec2Access(keys, settings.sshPort());
    this.events = events;
    this.outputRoot = outputRoot.toAbsolutePath();
    this.clock = clock;
  }

  @Override
  public String name() {
    return "ec2";
  }

  InstanceView view() {
    return view;
  }

  SecurityGroups groups() {
    return groups;
  }

  // ---- ensure / describe

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
    List<InstanceView.Instance> usable = mine.stream().filter(InstanceView.Instance::usable).toList();
    if (!usable.isEmpty()) {
      launched.remove(uid);
      return Optional.of(machine(keepOne(job, usable), null));
    }
    InstanceView.Instance recent = launched.get(uid);
    if (recent != null && withinGrace(recent.launchTime())) {
      return Optional.of(machine(recent, "Instance " + recent.id() + " was launched; waiting for EC2 to list it"));
    }
    InstanceStatus known = job.getStatus() == null ? null : job.getStatus().instance;
    if (known != null && known.id != null) {
      Optional<InstanceView.Instance> seen = mine.stream().filter(i -> i.id().equals(known.id)).findFirst();
      if (seen.isEmpty() && known.launchedAt != null && withinGrace(Instant.parse(known.launchedAt))) {
        return Optional.of(new Machine(known.id, known.type, Machine.State.PENDING, null, known.sshUser, known.launchedAt,
            "Instance " + known.id + " was launched; waiting for EC2 to list it"));
      }
      InstanceView.Instance gone = seen.orElseGet(() -> view.describe(known.id).orElse(null));
      if (gone == null || !gone.usable()) {
        return Optional.of(new Machine(known.id, known.type, Machine.State.GONE, null, known.sshUser, known.launchedAt,
            "Instance " + known.id + " is " + (gone == null ? "gone" : gone.state())));
      }
      return Optional.of(machine(gone, null));
    }
    return Optional.empty();
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
    if (settings.sshCidrs().isEmpty()) {
      throw new JobFailure(Reason.Ec2NotConfigured, "the operator has no SSH source CIDRs (--ec2-ssh-cidrs / TRAININGJOB_EC2_SSH_CIDRS): "
          + "it will not open SSH to the world, so it cannot launch");
    }
    if (outputUri(job) != null && settings.instanceProfile() == null) {
      throw new JobFailure(Reason.Ec2NotConfigured, "spec.output.s3Uri needs an instance profile the instance can write with; "
          + "the operator has none (--ec2-instance-profile / TRAININGJOB_EC2_INSTANCE_PROFILE)");
    }
    JobKeys.Keys jobKeys = keys.ensure(job);
    ImageCatalog.ResolvedImage image = images.resolve(spec.image);
    String user = sshUser(spec, image);
    String vpcId = spec.subnetId == null ? null
        : ec2.describeSubnets(r -> r.subnetIds(spec.subnetId)).subnets().stream().findFirst()
            .orElseThrow(() -> new JobFailure(Reason.InvalidSpec, "subnet " + spec.subnetId + " does not exist")).vpcId();
    String groupId = groups.ensure(job, vpcId);
    String userData = CloudInit.encoded(CloudInit.userData(jobKeys, user, image.defaultUser() == null ? user : image.defaultUser(),
        MachineGuard.of(settings)));
    List<String> types = new ArrayList<>();
    types.add(spec.instanceType);
    if (spec.fallbackInstanceTypes != null) {
      spec.fallbackInstanceTypes.stream().filter(t -> t != null && !t.isBlank() && !types.contains(t)).forEach(types::add);
    }
    List<String> refused = new ArrayList<>();
    for (int i = 0; i < types.size(); i++) {
      String type = types.get(i);
      RunInstancesRequest request = LaunchRequest.build(job, settings, operatorId, image, user, type, i, groupId, userData);
      try {
        var response = ec2.runInstances(request);
        InstanceView.Instance instance = InstanceView.of(response.instances().get(0));
        launched.put(job.getMetadata().getUid(), instance);
        LOG.info("{}: launched {} ({}, {}) with client token {}", job.ref(), instance.id(), type, image.amiId(), request.clientToken());
        String note = refused.isEmpty() ? "" : " after " + String.join(", ", refused);
        events.normal(job, Reason.Launched, "Launched " + instance.id() + " (" + type + ", " + image.amiId() + ")" + note);
        if (!refused.isEmpty()) {
          events.warning(job, Reason.FallbackInstanceType, "Using fallback instance type " + type + note);
        }
        return instance;
      } catch (AwsServiceException e) {
        String code = Ec2Errors.code(e);
        if ("IdempotentParameterMismatch".equals(code)) {
          // this token already launched an instance with other parameters (the image parameter moved on, say):
          // that instance is ours and will show up in the view; never launch a second one
          throw new IllegalStateException("an instance launched earlier for this job with token " + request.clientToken()
              + " is not listed by EC2 yet; waiting for it (" + Ec2Errors.message(e) + ")");
        }
        if (!Ec2Errors.NO_CAPACITY.contains(code)) {
          throw e;
        }
        refused.add(type + " (" + code + ")");
        LOG.warn("{}: {} cannot be launched now: {}: {}", job.ref(), type, code, Ec2Errors.message(e));
        events.warning(job, Reason.InstanceTypeUnavailable, type + " cannot be launched now: " + code + ": " + Ec2Errors.message(e));
      }
    }
    throw new JobFailure(Reason.NoCapacity, "no instance type could be launched: " + String.join(", ", refused)
        + "; add spec.compute.ec2.fallbackInstanceTypes or try another region");
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

  @Override
  public Optional<Path> outputDirectory(TrainingJob job) {
    // with an S3 URI the instance copies its outputs there itself; nothing comes through the operator
    return outputUri(job) != null ? Optional.empty() : Optional.of(ExistingMachines.outputDirectory(outputRoot, job));
  }

  @Override
  public MachineDuties duties(TrainingJob job) {
    return new MachineDuties(MachineGuard.FEED_DIRECTORY, MachineGuard.ceilingSeconds(job.getSpec().limits, settings.shutdownGrace()),
        outputUri(job));
  }

  private static String outputUri(TrainingJob job) {
    return job.getSpec().output == null ? null : job.getSpec().output.s3Uri;
  }

  // ---- release

  @Override
  public boolean release(TrainingJob job) throws Exception {
    String uid = job.getMetadata().getUid();
    List<InstanceView.Instance> mine = new ArrayList<>(view.current().forUid(uid));
    InstanceStatus known = job.getStatus() == null ? null : job.getStatus().instance;
    InstanceView.Instance recent = launched.get(uid);
    if (known != null && known.id != null && mine.stream().noneMatch(i -> i.id().equals(known.id))) {
      // not in the shared view: ask for it alone; not found shortly after launch only means "not listed yet"
      Optional<InstanceView.Instance> one = view.describe(known.id);
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
