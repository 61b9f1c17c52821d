package dev.trainingjob.operator.fake.ec2;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the fake EC2 endpoint keeps: instances (pending → running → shutting-down → terminated with
 * delays, booted as SSH servers; a running one whose guard powered it off goes on to terminated),
 * security groups, images and public parameters, the faults that shape the answers, and the actions
 * that read and change them, answering with EC2's XML.
 */
final class FakeAccount {
  record Image(String id, String name, String rootDevice, String defaultUser, String architecture, int snapshotGiB) {}

  /** An instance type the region offers: its architecture and vCPUs. */
  record TypeInfo(String name, String architecture, int vcpus) {}

  /** A subnet: its VPC, and whether instances launched there get a public address without asking. */
  record Subnet(String id, String vpcId, boolean mapsPublicIp) {}

  /** An EC2 error document: its HTTP status, code and message. */
  static final class Ec2Error extends RuntimeException {
    final int status;
    final String code;

    Ec2Error(int status, String code, String message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  private final Path root;
  private final Map<String, String> bootEnv;
  private final int sshPort;
  private final Clock clock = Clock.systemUTC();
  private final AtomicInteger nextAddress = new AtomicInteger(2);

  final Map<String, FakeInstance> instances = new LinkedHashMap<>();
  /** The same instances for readers that must not wait for the account's lock (the fake IMDS). */
  private final Map<String, FakeInstance> byId = new ConcurrentHashMap<>();
  private final Map<String, FakeInstance> byToken = new HashMap<>();
  final Map<String, FakeEc2.Group> groups = new LinkedHashMap<>();
  final Map<String, String> parameters = new ConcurrentHashMap<>();
  final Map<String, Image> images = new ConcurrentHashMap<>();
  final Map<String, TypeInfo> types = new ConcurrentHashMap<>();
  final Map<String, Subnet> subnets = new ConcurrentHashMap<>();
  /** Spot prices as DescribeSpotPriceHistory answers them: each series' price changes by time. */
  final SpotPrices spotPrices = new SpotPrices();

  // behaviour and faults
  volatile Duration pendingFor = Duration.ofMillis(300);
  volatile Duration shuttingDownFor = Duration.ofMillis(300);
  volatile int pageSize = 1000;
  final Set<String> noCapacity = ConcurrentHashMap.newKeySet();
  /** Quota buckets (Standard, G and VT, P, ...) whose vCPU quota is used up: launches there are refused. */
  final Set<String> quotaExhausted = ConcurrentHashMap.newKeySet();
  /** Errors RunInstances answers for an instance type (any type under "*"), as EC2 would for that account. */
  final Map<String, Ec2Error> launchErrors = new ConcurrentHashMap<>();
  /** Instance types whose next launch is terminated at once (Server.InternalError) and its answer lost: the SDK asks again. */
  final Set<String> terminateOnLaunch = ConcurrentHashMap.newKeySet();
  /** Instance types whose next launch finds its token used by a gone instance launched with other parameters. */
  final Set<String> mismatchOnLaunch = ConcurrentHashMap.newKeySet();
  /** EC2 drops the tags of terminated instances after a while; null keeps them. */
  volatile Duration tagsDroppedAfter;
  volatile Duration invisibleAfterLaunch = Duration.ZERO;
  final AtomicInteger dependencyViolations = new AtomicInteger();
  volatile boolean defaultVpc = true;
  /** Off: instances boot as from an image whose cloud-init skips bootcmd (no guard is armed). */
  volatile boolean bootcmd = true;
  /** On: instances launched from now on serve a new host key only once told to (FakeInstance#resumeSshdReloads). */
  volatile boolean sshdReloadsHeld;
  /** On: instances run without booting (no bootcmd, no sshd). */
  volatile boolean bootless;

  /**
   * @param root where instances keep their homes
   * @param bootEnv what every instance's commands get in their environment (PATH with the fake tools)
   * @param sshPort the port each instance's sshd listens on, at its own address
   */
  FakeAccount(Path root, Map<String, String> bootEnv, int sshPort) {
    this.root = root;
    this.bootEnv = Map.copyOf(bootEnv);
    this.sshPort = sshPort;
  }

  /** The body of an action's response (inside its XML element). */
  synchronized String answer(String action, QueryParams q) {
    advance();
    return switch (action) {
      case "RunInstances" -> runInstances(q);
      case "DescribeInstances" -> describeInstances(q);
      case "TerminateInstances" -> terminateInstances(q);
      case "CreateSecurityGroup" -> createSecurityGroup(q);
      case "AuthorizeSecurityGroupIngress" -> authorize(q);
      case "DescribeSecurityGroups" -> describeSecurityGroups(q);
      case "DeleteSecurityGroup" -> deleteSecurityGroup(q);
      case "DescribeImages" -> describeImages(q);
      case "DescribeSubnets" -> describeSubnets(q);
      case "DescribeInstanceTypes" -> describeInstanceTypes(q);
      case "CreateTags" -> createTags(q);
      case "DescribeSpotPriceHistory" -> spotPrices.describe(q, types.keySet(), clock.instant());
      default -> throw new Ec2Error(400, "InvalidAction", "The action " + action + " is not valid for this web service.");
    };
  }

  synchronized List<FakeInstance> instances() {
    advance();
    return List.copyOf(instances.values());
  }

  synchronized FakeInstance instance(String id) {
    advance();
    return instances.get(id);
  }

  synchronized List<FakeEc2.Group> groups() {
    return List.copyOf(groups.values());
  }

  synchronized void terminateFromOutside(String id) {
    startTerminating(instances.get(id));
  }

  synchronized FakeInstance launchTagged(Map<String, String> tags, Instant launchTime) {
    QueryParams p = QueryParams.parse("InstanceType=g5.xlarge&ImageId=" + FakeEc2.UBUNTU_AMI);
    FakeInstance i = new FakeInstance(newId("i-"), "manual-" + UUID.randomUUID(), "", p, nextAddress(), launchTime,
        new LinkedHashMap<>(tags), Map.of(), "ubuntu", root.resolve("instances").resolve("manual"));
    i.state = "running";
    i.runningAt = launchTime;
    add(i);
    return i;
  }

  synchronized void reboot(String id) {
    advance();
    FakeInstance i = instances.get(id);
    if (i == null || !"running".equals(i.state)) {
      throw new IllegalStateException("only a running instance reboots: " + id + " is " + (i == null ? "unknown" : i.state));
    }
    try {
      i.reboot(sshPort, bootEnv, bootcmd);
    } catch (Exception e) {
      throw new IllegalStateException("fake instance " + id + " could not boot again", e);
    }
  }

  synchronized void powerOffAll() {
    for (FakeInstance i : instances.values()) {
      i.powerOff();
    }
  }

  // ---- state

  private void advance() {
    Instant now = clock.instant();
    for (FakeInstance i : instances.values()) {
      if ("pending".equals(i.state) && !now.isBefore(i.launchTime.plus(pendingFor))) {
        try {
          if (!bootless) {
            i.boot(sshPort, bootEnv, bootcmd);
          }
        } catch (Exception e) {
          throw new IllegalStateException("fake instance " + i.id + " could not boot at " + i.address + ":" + sshPort, e);
        }
        i.state = "running";
        i.runningAt = now;
      }
      interruptIfDue(i, now);
      if ("running".equals(i.state) && i.powerOffRequested()) {
        // its guard powered it off: launched with shutdown behaviour terminate, EC2 terminates it
        startTerminating(i, "Client.InstanceInitiatedShutdown", "Client.InstanceInitiatedShutdown: Instance initiated shutdown");
      }
      if ("shutting-down".equals(i.state) && !now.isBefore(i.terminateRequestedAt.plus(shuttingDownFor))) {
        i.state = "terminated";
        i.terminatedAt = now;
      }
      if ("terminated".equals(i.state) && tagsDroppedAfter != null && !now.isBefore(i.terminatedAt.plus(tagsDroppedAfter))) {
        i.tags.clear();
      }
    }
  }

  /** Starts the way to terminated, with the state reason EC2 gives (Client.UserInitiatedShutdown for an API call). */
  void startTerminating(FakeInstance i, String reasonCode, String reasonMessage) {
    if (i == null || "terminated".equals(i.state) || "shutting-down".equals(i.state)) {
      return;
    }
    i.powerOff();
    i.state = "shutting-down";
    i.terminateRequestedAt = clock.instant();
    i.stateReasonCode = reasonCode;
    i.stateReasonMessage = reasonMessage;
  }

  private void startTerminating(FakeInstance i) {
    startTerminating(i, "Client.UserInitiatedShutdown", "Client.UserInitiatedShutdown: User initiated shutdown");
  }

  /** EC2 takes a spot instance back at once, without a notice first. */
  synchronized void interruptSpot(String id) {
    startTerminating(instances.get(id), SPOT_TERMINATION, SPOT_TERMINATION_MESSAGE);
  }

  static final String SPOT_TERMINATION = "Server.SpotInstanceTermination";
  static final String SPOT_TERMINATION_MESSAGE = "Server.SpotInstanceTermination: Spot instance termination";

  /**
   * EC2 decides to take a running spot instance back: the notice shows in its IMDS from now on, announcing the time
   * it is terminated (to the second, as instance-action has it), and EC2 starts terminating it once that long passed.
   *
   * @return when it is to start terminating
   */
  synchronized Instant noticeSpotInterruption(String id, Duration noticeToTermination) {
    advance();
    FakeInstance i = instances.get(id);
    if (i == null || !"running".equals(i.state) || !i.spot()) {
      throw new IllegalStateException("only a running spot instance is interrupted: " + id + " is "
          + (i == null ? "unknown" : i.state + (i.spot() ? " (spot)" : " (on-demand)")));
    }
    if (i.spotTerminateAt != null) {
      throw new IllegalStateException(id + " was already told of its interruption at " + i.spotNoticeAt);
    }
    Instant now = clock.instant();
    i.spotNoticeAt = now;
    i.spotActionTime = now.plus(noticeToTermination).truncatedTo(ChronoUnit.SECONDS);
    i.spotTerminateAt = now.plus(noticeToTermination);
    interruptIfDue(i, now);
    return i.spotTerminateAt;
  }

  /**
   * Starts terminating the spot instances whose interruption is due, without the rest of {@link #advance()}: what EC2
   * does on its own, whether or not anyone calls it.
   *
   * @return how long until the next interruption still to come; null when none is
   */
  synchronized Duration interruptionsDue() {
    Instant now = clock.instant();
    Duration next = null;
    for (FakeInstance i : instances.values()) {
      interruptIfDue(i, now);
      if ("running".equals(i.state) && i.spotTerminateAt != null) {
        Duration left = Duration.between(now, i.spotTerminateAt);
        next = next == null || left.compareTo(next) < 0 ? left : next;
      }
    }
    return next;
  }

  private void interruptIfDue(FakeInstance i, Instant now) {
    if ("running".equals(i.state) && i.spotTerminateAt != null && !now.isBefore(i.spotTerminateAt)) {
      startTerminating(i, SPOT_TERMINATION, SPOT_TERMINATION_MESSAGE);
    }
  }

  /** An instance by id, without the account's lock and without advancing anything (for the fake IMDS). */
  FakeInstance lookup(String id) {
    return byId.get(id);
  }

  private void add(FakeInstance i) {
    instances.put(i.id, i);
    byId.put(i.id, i);
  }

  private boolean visible(FakeInstance i) {
    return !clock.instant().isBefore(i.launchTime.plus(invisibleAfterLaunch));
  }

  /** 127.0.0.2 on, then 127.0.1.x ...: all of 127/8 is this machine's, and a burst of launches outgrows one /24. */
  private String nextAddress() {
    int n = nextAddress.getAndIncrement();
    return n < 255 ? "127.0.0." + n : "127.0." + (n / 254) + "." + (n % 254 + 1);
  }

  private static String newId(String prefix) {
    return prefix + UUID.randomUUID().toString().replace("-", "").substring(0, 17);
  }

  // ---- actions

  private String runInstances(QueryParams q) {
    for (String required : List.of("MinCount", "MaxCount")) {
      if (q.get(required) == null) {
        throw new Ec2Error(400, "MissingParameter", "The request must contain the parameter " + required);
      }
    }
    String token = q.get("ClientToken");
    if (token != null && token.length() > 64) {
      throw new Ec2Error(400, "InvalidParameterValue", "Value (" + token + ") for parameter clientToken is invalid. "
          + "Length exceeds maximum of 64 ASCII characters");
    }
    Map<String, String> rest = new java.util.TreeMap<>(q.all());
    rest.remove("ClientToken");
    String fingerprint = rest.toString();
    if (token != null && !byToken.containsKey(token) && mismatchOnLaunch.remove(q.get("InstanceType"))) {
      FakeInstance earlier = new FakeInstance(newId("i-"), token, "an earlier request", q, nextAddress(), clock.instant().minusSeconds(600),
          new LinkedHashMap<>(), Map.of(), "ubuntu", root.resolve("instances").resolve("earlier"));
      earlier.state = "terminated";
      earlier.terminatedAt = clock.instant().minusSeconds(300);
      earlier.stateReasonCode = "Client.UserInitiatedShutdown";
      earlier.stateReasonMessage = "Client.UserInitiatedShutdown: User initiated shutdown";
      add(earlier);
      byToken.put(token, earlier);
    }
    if (token != null && byToken.containsKey(token)) {
      FakeInstance same = byToken.get(token);
      if (!same.fingerprint.equals(fingerprint)) {
        throw new Ec2Error(400, "IdempotentParameterMismatch",
            "The client token you have provided is associated with a resource that is already deleted or has different parameters.");
      }
      if ("terminated".equals(same.state)) {
        throw new Ec2Error(400, "IdempotentInstanceTerminated",
            "The client token you have provided is associated with an instance that has been terminated.");
      }
      return reservation(same);
    }
    String data = q.get("UserData");
    if (data != null && java.util.Base64.getDecoder().decode(data).length > 16384) {
      throw new Ec2Error(400, "InvalidParameterValue", "User data is limited to 16384 bytes");
    }
    String type = q.get("InstanceType");
    TypeInfo info = types.get(type);
    if (info == null) {
      throw new Ec2Error(400, "InvalidParameterValue", "Invalid value '" + type + "' for InstanceType.");
    }
    Image image = images.get(q.get("ImageId"));
    if (image == null) {
      throw new Ec2Error(400, "InvalidAMIID.NotFound", "The image id '[" + q.get("ImageId") + "]' does not exist");
    }
    if (!info.architecture().equals(image.architecture())) {
      throw new Ec2Error(400, "InvalidParameterValue", "The architecture '" + info.architecture() + "' of the specified instance type "
          + "does not match the architecture '" + image.architecture() + "' of the specified AMI. Specify an instance type and an AMI "
          + "that have matching architectures, and try again. You can use 'describe-instance-types' or 'describe-images' to discover "
          + "the architecture of the instance type or AMI.");
    }
    boolean interfaceGiven = q.get("NetworkInterface.1.DeviceIndex") != null;
    if (interfaceGiven && (q.get("SubnetId") != null || !q.values("SecurityGroupId").isEmpty())) {
      throw new Ec2Error(400, "InvalidParameterCombination",
          "Network interfaces and an instance-level subnet or security groups may not be specified on the same request");
    }
    String subnetId = interfaceGiven ? q.get("NetworkInterface.1.SubnetId") : q.get("SubnetId");
    Subnet subnet = null;
    if (subnetId != null) {
      subnet = subnets.get(subnetId);
      if (subnet == null) {
        throw new Ec2Error(400, "InvalidSubnetID.NotFound", "The subnet ID '" + subnetId + "' does not exist");
      }
    } else if (!defaultVpc) {
      throw new Ec2Error(400, "VPCIdNotSpecified", "No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.");
    }
    List<String> securityGroups = interfaceGiven ? q.values("NetworkInterface.1.SecurityGroupId") : q.values("SecurityGroupId");
    for (String sg : securityGroups) {
      if (!groups.containsKey(sg)) {
        throw new Ec2Error(400, "InvalidGroup.NotFound", "The security group '" + sg + "' does not exist");
      }
    }
    for (QueryParams mapping : q.list("BlockDeviceMapping")) {
      String size = mapping.get("Ebs.VolumeSize");
      if (image.rootDevice().equals(mapping.get("DeviceName")) && size != null && Integer.parseInt(size) < image.snapshotGiB()) {
        throw new Ec2Error(400, "InvalidBlockDeviceMapping", "Volume of size " + size + "GB is smaller than snapshot 'snap-"
            + image.id().substring(4) + "', expect size >= " + image.snapshotGiB() + "GB");
      }
    }
    Ec2Error injected = launchErrors.getOrDefault(type, launchErrors.get("*"));
    if (injected != null) {
      throw injected;
    }
    boolean spot = "spot".equals(q.get("InstanceMarketOptions.MarketType"));
    if (quotaExhausted.contains(quotaBucket(type))) {
      if (spot) {
        throw new Ec2Error(400, "MaxSpotInstanceCountExceeded", "Max spot instance count exceeded");
      }
      throw new Ec2Error(400, "VcpuLimitExceeded", "You have requested more vCPU capacity than your current vCPU limit of 0 allows "
          + "for the instance bucket that the specified instance type belongs to. Please visit http://aws.amazon.com/contact-us/ec2-request "
          + "to request an adjustment to this limit.");
    }
    if (noCapacity.contains(type)) {
      throw new Ec2Error(500, "InsufficientInstanceCapacity",
          "We currently do not have sufficient " + type + " capacity in the Availability Zone you requested.");
    }
    boolean publicIp = subnet == null ? true
        : "true".equals(q.get("NetworkInterface.1.AssociatePublicIpAddress")) || subnet.mapsPublicIp();
    String id = newId("i-");
    FakeInstance i = new FakeInstance(id, token, fingerprint, q, nextAddress(), clock.instant(),
        FakeInstance.tags(q, "instance"), FakeInstance.tags(q, "volume"), image.defaultUser(), root.resolve("instances").resolve(id));
    i.securityGroupIds.addAll(securityGroups);
    if (sshdReloadsHeld) {
      i.holdSshdReloads();
    }
    i.subnetId = subnetId;
    i.publicIp = publicIp;
    add(i);
    if (token != null) {
      byToken.put(token, i);
    }
    if (terminateOnLaunch.remove(type)) {
      startTerminating(i, "Server.InternalError", "Server.InternalError: Internal error on launch");
      i.state = "terminated";
      i.terminatedAt = clock.instant();
      throw new Ec2Error(500, "InternalError", "An internal error has occurred");
    }
    return reservation(i);
  }

  /** The vCPU quota an instance type counts against, as EC2 buckets them (by the letters before the generation). */
  static String quotaBucket(String type) {
    String letters = type.replaceAll("^([a-z]+).*", "$1");
    return switch (letters) {
      case "g", "gr", "vt" -> "G and VT";
      case "p" -> "P";
      case "inf" -> "Inf";
      case "trn" -> "Trn";
      case "dl" -> "DL";
      case "x" -> "X";
      case "f" -> "F";
      case "hpc" -> "HPC";
      case "u" -> "High Memory";
      default -> "Standard";
    };
  }

  private String reservation(FakeInstance i) {
    Xml x = new Xml().leaf("reservationId", "r-" + i.id.substring(2)).leaf("ownerId", "123456789012").open("groupSet").close("groupSet")
        .open("instancesSet");
    instanceXml(x, i);
    return x.close("instancesSet").toString();
  }

  private static int stateCode(String state) {
    return switch (state) {
      case "pending" -> 0;
      case "running" -> 16;
      case "shutting-down" -> 32;
      case "terminated" -> 48;
      default -> 80;
    };
  }

  private void instanceXml(Xml x, FakeInstance i) {
    x.open("item").leaf("instanceId", i.id).leaf("imageId", i.imageId)
        .open("instanceState").leaf("code", stateCode(i.state)).leaf("name", i.state).close("instanceState")
        .leaf("instanceType", i.instanceType).leaf("launchTime", i.launchTime.toString())
        .leaf("clientToken", i.clientToken);
    if (!"terminated".equals(i.state)) {
      x.leaf("privateIpAddress", i.address);
      if (i.publicIp) {
        x.leaf("ipAddress", i.address);
      }
    }
    if (i.subnetId != null) {
      x.leaf("subnetId", i.subnetId);
    }
    x.open("placement").leaf("availabilityZone", i.zone).close("placement");
    if (i.stateReasonCode != null) {
      x.open("stateReason").leaf("code", i.stateReasonCode).leaf("message", i.stateReasonMessage).close("stateReason");
    }
    if (i.spot()) {
      x.leaf("instanceLifecycle", "spot");
    }
    x.open("groupSet");
    for (String sg : i.securityGroupIds) {
      x.open("item").leaf("groupId", sg).close("item");
    }
    x.close("groupSet").open("tagSet");
    i.tags.forEach((k, v) -> x.open("item").leaf("key", k).leaf("value", v).close("item"));
    x.close("tagSet").open("metadataOptions").leaf("httpTokens", i.launch.get("MetadataOptions.HttpTokens")).close("metadataOptions")
        .close("item");
  }

  private String describeInstances(QueryParams q) {
    List<String> ids = q.values("InstanceId");
    if (q.get("MaxResults") != null) {
      if (!ids.isEmpty()) {
        throw new Ec2Error(400, "InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults");
      }
      int asked = Integer.parseInt(q.get("MaxResults"));
      if (asked < 5 || asked > 1000) {
        throw new Ec2Error(400, "InvalidParameterValue", "Value ( " + asked + " ) for parameter maxResults is invalid. "
            + "Parameter must be between 5 and 1000.");
      }
    }
    List<FakeInstance> matched = new ArrayList<>();
    if (!ids.isEmpty()) {
      for (String id : ids) {
        FakeInstance i = instances.get(id);
        if (i == null || !visible(i)) {
          throw new Ec2Error(400, "InvalidInstanceID.NotFound", "The instance ID '" + id + "' does not exist");
        }
        matched.add(i);
      }
    } else {
      for (FakeInstance i : instances.values()) {
        if (visible(i) && matches(q.list("Filter"), i.tags, Map.of("instance-state-name", i.state, "instance-id", i.id,
            "client-token", String.valueOf(i.clientToken)))) {
          matched.add(i);
        }
      }
    }
    int max = q.get("MaxResults") == null ? Integer.MAX_VALUE : Integer.parseInt(q.get("MaxResults"));
    int page = Math.min(max, pageSize);
    int from = q.get("NextToken") == null ? 0 : Integer.parseInt(q.get("NextToken"));
    int to = Math.min(matched.size(), from + page);
    Xml x = new Xml().open("reservationSet");
    for (FakeInstance i : matched.subList(from, to)) {
      x.open("item").leaf("reservationId", "r-" + i.id.substring(2)).leaf("ownerId", "123456789012").open("instancesSet");
      instanceXml(x, i);
      x.close("instancesSet").close("item");
    }
    x.close("reservationSet");
    if (to < matched.size()) {
      x.leaf("nextToken", to);
    }
    return x.toString();
  }

  private static boolean matches(List<QueryParams> filters, Map<String, String> tags, Map<String, String> fields) {
    for (QueryParams f : filters) {
      String name = f.get("Name");
      List<String> values = f.values("Value");
      String actual = name.startsWith("tag:") ? tags.get(name.substring(4)) : fields.get(name);
      if (actual == null || !values.contains(actual)) {
        return false;
      }
    }
    return true;
  }

  private String terminateInstances(QueryParams q) {
    Xml x = new Xml().open("instancesSet");
    for (String id : q.values("InstanceId")) {
      FakeInstance i = instances.get(id);
      if (i == null) {
        throw new Ec2Error(400, "InvalidInstanceID.NotFound", "The instance ID '" + id + "' does not exist");
      }
      String before = i.state;
      startTerminating(i);
      x.open("item").leaf("instanceId", id)
          .open("currentState").leaf("code", stateCode(i.state)).leaf("name", i.state).close("currentState")
          .open("previousState").leaf("code", stateCode(before)).leaf("name", before).close("previousState").close("item");
    }
    return x.close("instancesSet").toString();
  }

  private String createSecurityGroup(QueryParams q) {
    String name = q.get("GroupName");
    String description = q.get("GroupDescription");
    if (name == null || name.isEmpty() || name.length() > 255 || name.startsWith("sg-")) {
      throw new Ec2Error(400, "InvalidParameterValue", "Invalid value '" + name + "' for groupName: up to 255 characters, not starting with sg-");
    }
    if (description == null || description.length() > 255 || !description.matches("[a-zA-Z0-9 ._\\-:/()#,@\\[\\]+=&;{}!$*]*")) {
      throw new Ec2Error(400, "InvalidParameterValue", "Invalid value for GroupDescription: up to 255 of a-zA-Z0-9, spaces and ._-:/()#,@[]+=&;{}!$*");
    }
    if (q.get("VpcId") == null && !defaultVpc) {
      throw new Ec2Error(400, "VPCIdNotSpecified", "No default VPC for this user");
    }
    String vpc = q.get("VpcId") == null ? "vpc-default" : q.get("VpcId");
    if (groups.values().stream().anyMatch(g -> g.name().equals(name) && g.vpcId().equals(vpc))) {
      throw new Ec2Error(400, "InvalidGroup.Duplicate", "The security group '" + name + "' already exists for VPC '" + vpc + "'");
    }
    String id = newId("sg-");
    groups.put(id, new FakeEc2.Group(id, name, vpc, FakeInstance.tags(q, "security-group"), new CopyOnWriteArrayList<>()));
    return new Xml().leaf("return", true).leaf("groupId", id).toString();
  }

  /** All or nothing, as EC2 does: one rule that exists already, or is given twice, adds none of them. */
  private String authorize(QueryParams q) {
    FakeEc2.Group g = group(q.get("GroupId"));
    List<String[]> adding = new ArrayList<>();
    for (QueryParams perm : q.list("IpPermissions")) {
      List<String> cidrs = new ArrayList<>();
      for (QueryParams range : perm.list("IpRanges")) {
        String cidr = range.get("CidrIp");
        if (cidr == null || cidr.contains(":")) {
          throw new Ec2Error(400, "InvalidParameterValue", "CIDR block " + cidr + " is malformed");
        }
        cidrs.add(cidr);
      }
      for (QueryParams range : perm.list("Ipv6Ranges")) {
        String cidr = range.get("CidrIpv6");
        if (cidr == null || !cidr.contains(":")) {
          throw new Ec2Error(400, "InvalidParameterValue", "CIDR block " + cidr + " is malformed");
        }
        cidrs.add(cidr);
      }
      for (String cidr : cidrs) {
        String[] rule = {perm.get("IpProtocol"), perm.get("FromPort"), perm.get("ToPort"), cidr};
        if (g.rules().stream().anyMatch(r -> java.util.Arrays.equals(r, rule)) || adding.stream().anyMatch(r -> java.util.Arrays.equals(r, rule))) {
          throw new Ec2Error(400, "InvalidPermission.Duplicate", "the specified rule \"peer: " + cidr + ", " + rule[0] + ", from port: "
              + rule[1] + ", to port: " + rule[2] + ", ALLOW\" already exists");
        }
        adding.add(rule);
      }
    }
    g.rules().addAll(adding);
    return new Xml().leaf("return", true).toString();
  }

  private FakeEc2.Group group(String id) {
    FakeEc2.Group g = groups.get(id);
    if (g == null) {
      throw new Ec2Error(400, "InvalidGroup.NotFound", "The security group '" + id + "' does not exist");
    }
    return g;
  }

  private String describeSecurityGroups(QueryParams q) {
    List<String> ids = q.values("GroupId");
    Xml x = new Xml().open("securityGroupInfo");
    for (FakeEc2.Group g : groups.values()) {
      if (!ids.isEmpty() && !ids.contains(g.id())) {
        continue;
      }
      if (!matches(q.list("Filter"), g.tags(), Map.of("group-name", g.name(), "group-id", g.id(), "vpc-id", g.vpcId()))) {
        continue;
      }
      x.open("item").leaf("ownerId", "123456789012").leaf("groupId", g.id()).leaf("groupName", g.name())
          .leaf("groupDescription", "").leaf("vpcId", g.vpcId()).open("ipPermissions");
      for (String[] r : g.rules()) {
        boolean v6 = r[3].contains(":");
        x.open("item").leaf("ipProtocol", r[0]).leaf("fromPort", r[1]).leaf("toPort", r[2])
            .open(v6 ? "ipv6Ranges" : "ipRanges").open("item").leaf(v6 ? "cidrIpv6" : "cidrIp", r[3]).close("item")
            .close(v6 ? "ipv6Ranges" : "ipRanges").close("item");
      }
      x.close("ipPermissions").open("tagSet");
      g.tags().forEach((k, v) -> x.open("item").leaf("key", k).leaf("value", v).close("item"));
      x.close("tagSet").close("item");
    }
    return x.close("securityGroupInfo").toString();
  }

  private String deleteSecurityGroup(QueryParams q) {
    FakeEc2.Group g = group(q.get("GroupId"));
    boolean inUse = instances.values().stream().anyMatch(i -> !"terminated".equals(i.state) && i.securityGroupIds.contains(g.id()));
    if (inUse || dependencyViolations.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      throw new Ec2Error(400, "DependencyViolation", "resource " + g.id() + " has a dependent object");
    }
    groups.remove(g.id());
    return new Xml().leaf("return", true).toString();
  }

  private String describeImages(QueryParams q) {
    Xml x = new Xml().open("imagesSet");
    for (String id : q.values("ImageId")) {
      Image image = images.get(id);
      if (image == null) {
        throw new Ec2Error(400, "InvalidAMIID.NotFound", "The image id '[" + id + "]' does not exist");
      }
      x.open("item").leaf("imageId", image.id()).leaf("name", image.name()).leaf("imageState", "available")
          .leaf("rootDeviceName", image.rootDevice()).leaf("rootDeviceType", "ebs").leaf("architecture", image.architecture())
          .open("blockDeviceMapping").open("item").leaf("deviceName", image.rootDevice()).open("ebs")
          .leaf("snapshotId", "snap-" + image.id().substring(4)).leaf("volumeSize", image.snapshotGiB())
          .leaf("deleteOnTermination", true).leaf("volumeType", "gp3").close("ebs").close("item").close("blockDeviceMapping")
          .close("item");
    }
    return x.close("imagesSet").toString();
  }

  private String describeSubnets(QueryParams q) {
    Xml x = new Xml().open("subnetSet");
    for (String id : q.values("SubnetId")) {
      Subnet subnet = subnets.get(id);
      if (subnet == null) {
        throw new Ec2Error(400, "InvalidSubnetID.NotFound", "The subnet ID '" + id + "' does not exist");
      }
      x.open("item").leaf("subnetId", id).leaf("vpcId", subnet.vpcId()).leaf("state", "available")
          .leaf("mapPublicIpOnLaunch", subnet.mapsPublicIp()).close("item");
    }
    return x.close("subnetSet").toString();
  }

  /** Like EC2: one unknown type fails the whole call, naming the unknown ones. */
  private String describeInstanceTypes(QueryParams q) {
    List<String> asked = q.values("InstanceType");
    List<String> unknown = asked.stream().filter(t -> !types.containsKey(t)).toList();
    if (!unknown.isEmpty()) {
      throw new Ec2Error(400, "InvalidInstanceType", "The following supplied instance types do not exist: [" + String.join(", ", unknown) + "]");
    }
    Xml x = new Xml().open("instanceTypeSet");
    for (String t : asked.isEmpty() ? List.copyOf(types.keySet()) : asked) {
      TypeInfo info = types.get(t);
      x.open("item").leaf("instanceType", info.name()).open("processorInfo").open("supportedArchitectures")
          .leaf("item", info.architecture()).close("supportedArchitectures").close("processorInfo")
          .open("vCpuInfo").leaf("defaultVCpus", info.vcpus()).close("vCpuInfo").close("item");
    }
    return x.close("instanceTypeSet").toString();
  }

  private String createTags(QueryParams q) {
    List<String> ids = q.values("ResourceId");
    for (String id : ids) {
      Map<String, String> tags = instances.containsKey(id) ? instances.get(id).tags : groups.containsKey(id) ? groups.get(id).tags() : null;
      if (tags == null) {
        throw new Ec2Error(400, "InvalidID", "The ID '" + id + "' is not valid");
      }
      tags.putAll(FakeInstance.checkedTags(q.list("Tag")));
    }
    return new Xml().leaf("return", true).toString();
  }

}
