package dev.trainingjob.operator.fake.ec2;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
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
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fake EC2 Query API (and SSM GetParameter) on 127.0.0.1 that the real AWS SDK talks to: form
 * requests in, EC2's XML and error documents out, with the HTTP status codes EC2 uses. It keeps
 * instances (pending → running → shutting-down → terminated, with delays), security groups, public
 * image parameters; honours ClientToken; injects faults on demand; and logs every request. Each
 * running instance is an SSH server at its own 127.0.0.N with the keys its user data carried, so
 * the operator's production SSH path runs against it.
 */
public final class FakeEc2 implements AutoCloseable {
  /** One request as the fake saw it: the action, its parameters, the SDK's attempt header, the answer. */
  public record Request(String action, Map<String, String> params, int attempt, int maxAttempts, int status, String errorCode) {}

  public record Group(String id, String name, String vpcId, Map<String, String> tags, List<String[]> rules) {}

  record Image(String id, String name, String rootDevice, String defaultUser) {}

  private static final Pattern ATTEMPT = Pattern.compile("attempt=(\\d+);\\s*max=(\\d+)");
  public static final String UBUNTU_AMI = "ami-0ubuntu2404fake";
  public static final String DLAMI_AMI = "ami-0dlamipytorchfake";
  public static final String AL2023_AMI = "ami-0al2023fake";

  private final HttpServer http;
  private final Path root;
  private final Path bin;
  private final Path s3Root;
  private final Path forbiddenLog;
  private final int sshPort;
  private final Clock clock = Clock.systemUTC();
  private final AtomicInteger nextAddress = new AtomicInteger(2);
  private final List<Request> log = new CopyOnWriteArrayList<>();

  private final Map<String, FakeInstance> instances = new LinkedHashMap<>();
  private final Map<String, FakeInstance> byToken = new HashMap<>();
  private final Map<String, Group> groups = new LinkedHashMap<>();
  private final Map<String, String> parameters = new ConcurrentHashMap<>();
  private final Map<String, Image> images = new ConcurrentHashMap<>();

  // behaviour and faults
  private volatile Duration pendingFor = Duration.ofMillis(300);
  private volatile Duration shuttingDownFor = Duration.ofMillis(300);
  private volatile int pageSize = 1000;
  private final AtomicInteger throttleNext = new AtomicInteger();
  private volatile Predicate<String> throttleWhich = a -> true;
  private final Set<String> noCapacity = ConcurrentHashMap.newKeySet();
  private volatile Duration invisibleAfterLaunch = Duration.ZERO;
  private final AtomicInteger dependencyViolations = new AtomicInteger();
  private volatile boolean defaultVpc = true;

  public FakeEc2(Path root) throws IOException {
    this.root = root.toAbsolutePath();
    this.bin = this.root.resolve("bin");
    this.s3Root = this.root.resolve("s3");
    this.forbiddenLog = this.root.resolve("forbidden-commands.log");
    Files.createDirectories(bin);
    Files.createDirectories(s3Root);
    for (String tool : List.of("aws", "sudo", "shutdown", "nvidia-smi")) {
      try (InputStream in = FakeEc2.class.getResourceAsStream("/fake-ec2/bin/" + tool)) {
        Path p = bin.resolve(tool);
        Files.write(p, in.readAllBytes());
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
      }
    }
    try (ServerSocket s = new ServerSocket(0)) {
      sshPort = s.getLocalPort(); // free on every loopback address: nothing listens on the wildcard there
    }
    images.put(UBUNTU_AMI, new Image(UBUNTU_AMI, "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20261101",
        "/dev/sda1", "ubuntu"));
    images.put(DLAMI_AMI, new Image(DLAMI_AMI, "Deep Learning OSS Nvidia Driver AMI GPU PyTorch 2.9 (Ubuntu 24.04) 20261101",
        "/dev/sda1", "ubuntu"));
    images.put(AL2023_AMI, new Image(AL2023_AMI, "al2023-ami-2023.9.20261101.0-kernel-6.1-x86_64", "/dev/xvda", "ec2-user"));
    parameters.put("/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id", UBUNTU_AMI);
    parameters.put("/aws/service/deeplearning/ami/x86_64/oss-nvidia-driver-gpu-pytorch-2.9-ubuntu-24.04/latest/ami-id", DLAMI_AMI);
    parameters.put("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64", AL2023_AMI);
    http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    http.createContext("/", this::handle);
    http.start();
  }

  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + http.getAddress().getPort());
  }

  /** The port every fake instance's sshd listens on (at its own address). */
  public int sshPort() {
    return sshPort;
  }

  /** Where the fake aws CLI on instances writes s3://bucket/key. */
  public Path s3Root() {
    return s3Root;
  }

  /** Power commands (sudo, shutdown) the instances tried to run; a test's dead-man's switch must never get there. */
  public List<String> forbiddenCommands() throws IOException {
    return Files.exists(forbiddenLog) ? Files.readAllLines(forbiddenLog) : List.of();
  }

  // ---- behaviour and faults

  public FakeEc2 delays(Duration pending, Duration shuttingDown) {
    this.pendingFor = pending;
    this.shuttingDownFor = shuttingDown;
    return this;
  }

  /** Answers at most this many items per DescribeInstances page, whatever MaxResults says. */
  public FakeEc2 pageSize(int size) {
    this.pageSize = size;
    return this;
  }

  /** The next n requests (of the actions matched) get RequestLimitExceeded. */
  public void throttleNext(int n, Predicate<String> actions) {
    throttleWhich = actions;
    throttleNext.set(n);
  }

  public void noCapacityFor(String instanceType) {
    noCapacity.add(instanceType);
  }

  /** For this long after a launch, DescribeInstances does not show the instance (and InvalidInstanceID.NotFound by id). */
  public void invisibleAfterLaunch(Duration window) {
    invisibleAfterLaunch = window;
  }

  /** The next n DeleteSecurityGroup calls fail with DependencyViolation. */
  public void dependencyViolations(int n) {
    dependencyViolations.set(n);
  }

  /** An account (region) whose default VPC was deleted: groups and launches need a subnet. */
  public void withoutDefaultVpc() {
    defaultVpc = false;
  }

  /** Someone terminated the instance in the console. */
  public synchronized void terminateFromOutside(String id) {
    startTerminating(instances.get(id));
  }

  public void putParameter(String name, String value) {
    parameters.put(name, value);
  }

  // ---- what tests look at

  public List<Request> requests() {
    return List.copyOf(log);
  }

  public List<Request> requests(String action) {
    return log.stream().filter(r -> r.action().equals(action)).toList();
  }

  public synchronized List<FakeInstance> instances() {
    advance();
    return List.copyOf(instances.values());
  }

  public synchronized FakeInstance instance(String id) {
    advance();
    return instances.get(id);
  }

  public synchronized List<FakeInstance> notTerminated() {
    advance();
    return instances.values().stream().filter(i -> !"terminated".equals(i.state)).toList();
  }

  public synchronized List<Group> groups() {
    return List.copyOf(groups.values());
  }

  /** An instance launched "by this operator" earlier, outside any job (the sweeper's prey). */
  public synchronized FakeInstance launchTagged(Map<String, String> tags, Instant launchTime) {
    QueryParams p = QueryParams.parse("InstanceType=g5.xlarge&ImageId=" + UBUNTU_AMI);
    FakeInstance i = new FakeInstance(newId("i-"), "manual-" + UUID.randomUUID(), "", p, nextAddress(), launchTime,
        new LinkedHashMap<>(tags), Map.of(), "ubuntu", root.resolve("instances").resolve("manual"));
    i.state = "running";
    i.runningAt = launchTime;
    instances.put(i.id, i);
    return i;
  }

  // ---- HTTP

  private void handle(HttpExchange ex) throws IOException {
    String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    int attempt = 1;
    int max = 0;
    String header = ex.getRequestHeaders().getFirst("amz-sdk-request");
    if (header != null) {
      Matcher m = ATTEMPT.matcher(header);
      if (m.find()) {
        attempt = Integer.parseInt(m.group(1));
        max = Integer.parseInt(m.group(2));
      }
    }
    String target = ex.getRequestHeaders().getFirst("X-Amz-Target");
    Answer answer;
    String action;
    Map<String, String> params;
    if (target != null) {
      action = target.substring(target.indexOf('.') + 1);
      params = Map.of("body", body);
      answer = ssm(action, body);
    } else {
      QueryParams q = QueryParams.parse(body);
      action = q.get("Action");
      params = Map.copyOf(q.all());
      answer = ec2(action, q);
    }
    log.add(new Request(action, params, attempt, max, answer.status, answer.errorCode));
    byte[] bytes = answer.body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", answer.contentType);
    ex.getResponseHeaders().add("x-amzn-RequestId", UUID.randomUUID().toString());
    ex.sendResponseHeaders(answer.status, bytes.length);
    ex.getResponseBody().write(bytes);
    ex.close();
  }

  private record Answer(int status, String contentType, String body, String errorCode) {}

  private static final class Ec2Error extends RuntimeException {
    final int status;
    final String code;

    Ec2Error(int status, String code, String message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  private Answer ssm(String action, String body) {
    if (!"GetParameter".equals(action)) {
      return new Answer(400, "application/x-amz-json-1.1", "{\"__type\":\"InvalidAction\",\"message\":\"" + action + "\"}", "InvalidAction");
    }
    Matcher m = Pattern.compile("\"Name\"\\s*:\\s*\"([^\"]+)\"").matcher(body);
    String name = m.find() ? m.group(1) : "";
    String value = parameters.get(name);
    if (value == null) {
      return new Answer(400, "application/x-amz-json-1.1", "{\"__type\":\"ParameterNotFound\",\"message\":\"Parameter " + name
          + " not found.\"}", "ParameterNotFound");
    }
    return new Answer(200, "application/x-amz-json-1.1", "{\"Parameter\":{\"Name\":\"" + name + "\",\"Type\":\"String\",\"Value\":\""
        + value + "\",\"Version\":1,\"DataType\":\"aws:ec2:image\"}}", null);
  }

  private Answer ec2(String action, QueryParams q) {
    if (throttleNext.get() > 0 && throttleWhich.test(action) && throttleNext.getAndDecrement() > 0) {
      return error(new Ec2Error(503, "RequestLimitExceeded", "Request limit exceeded."));
    }
    try {
      String inner;
      synchronized (this) {
        advance();
        inner = switch (action) {
          case "RunInstances" -> runInstances(q);
          case "DescribeInstances" -> describeInstances(q);
          case "TerminateInstances" -> terminateInstances(q);
          case "CreateSecurityGroup" -> createSecurityGroup(q);
          case "AuthorizeSecurityGroupIngress" -> authorize(q);
          case "DescribeSecurityGroups" -> describeSecurityGroups(q);
          case "DeleteSecurityGroup" -> deleteSecurityGroup(q);
          case "DescribeImages" -> describeImages(q);
          case "DescribeSubnets" -> describeSubnets(q);
          case "CreateTags" -> createTags(q);
          default -> throw new Ec2Error(400, "InvalidAction", "The action " + action + " is not valid for this web service.");
        };
      }
      String xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<" + action + "Response xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
          + "<requestId>" + UUID.randomUUID() + "</requestId>" + inner + "</" + action + "Response>";
      return new Answer(200, "text/xml;charset=UTF-8", xml, null);
    } catch (Ec2Error e) {
      return error(e);
    }
  }

  private static Answer error(Ec2Error e) {
    String xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>" + e.code + "</Code><Message>"
        + Xml.escape(e.getMessage()) + "</Message></Error></Errors><RequestID>" + UUID.randomUUID() + "</RequestID></Response>";
    return new Answer(e.status, "text/xml;charset=UTF-8", xml, e.code);
  }

  // ---- state

  private void advance() {
    Instant now = clock.instant();
    for (FakeInstance i : instances.values()) {
      if ("pending".equals(i.state) && !now.isBefore(i.launchTime.plus(pendingFor))) {
        try {
          i.boot(sshPort, Map.of("PATH", bin + ":" + System.getenv("PATH"), "FAKE_S3_ROOT", s3Root.toString(),
              "FAKE_FORBIDDEN_LOG", forbiddenLog.toString()));
        } catch (Exception e) {
          throw new IllegalStateException("fake instance " + i.id + " could not boot at " + i.address + ":" + sshPort, e);
        }
        i.state = "running";
        i.runningAt = now;
      }
      if ("shutting-down".equals(i.state) && !now.isBefore(i.terminateRequestedAt.plus(shuttingDownFor))) {
        i.state = "terminated";
      }
    }
  }

  private void startTerminating(FakeInstance i) {
    if (i == null || "terminated".equals(i.state) || "shutting-down".equals(i.state)) {
      return;
    }
    i.powerOff();
    i.state = "shutting-down";
    i.terminateRequestedAt = clock.instant();
  }

  private boolean visible(FakeInstance i) {
    return !clock.instant().isBefore(i.launchTime.plus(invisibleAfterLaunch));
  }

  private String nextAddress() {
    return "127.0.0." + nextAddress.getAndIncrement();
  }

  private static String newId(String prefix) {
    return prefix + UUID.randomUUID().toString().replace("-", "").substring(0, 17);
  }

  // ---- actions

  private String runInstances(QueryParams q) {
    String token = q.get("ClientToken");
    Map<String, String> rest = new java.util.TreeMap<>(q.all());
    rest.remove("ClientToken");
    String fingerprint = rest.toString();
    if (token != null && byToken.containsKey(token)) {
      FakeInstance same = byToken.get(token);
      if (!same.fingerprint.equals(fingerprint)) {
        throw new Ec2Error(400, "IdempotentParameterMismatch",
            "The client token you have provided is associated with a resource that is already deleted or has different parameters.");
      }
      return reservation(same);
    }
    String type = q.get("InstanceType");
    if (noCapacity.contains(type)) {
      throw new Ec2Error(500, "InsufficientInstanceCapacity",
          "We currently do not have sufficient " + type + " capacity in the Availability Zone you requested.");
    }
    Image image = images.get(q.get("ImageId"));
    if (image == null) {
      throw new Ec2Error(400, "InvalidAMIID.NotFound", "The image id '[" + q.get("ImageId") + "]' does not exist");
    }
    for (String sg : q.values("SecurityGroupId")) {
      if (!groups.containsKey(sg)) {
        throw new Ec2Error(400, "InvalidGroup.NotFound", "The security group '" + sg + "' does not exist");
      }
    }
    String id = newId("i-");
    FakeInstance i = new FakeInstance(id, token, fingerprint, q, nextAddress(), clock.instant(),
        FakeInstance.tags(q, "instance"), FakeInstance.tags(q, "volume"), image.defaultUser(), root.resolve("instances").resolve(id));
    instances.put(id, i);
    if (token != null) {
      byToken.put(token, i);
    }
    return reservation(i);
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
      x.leaf("privateIpAddress", i.address).leaf("ipAddress", i.address);
    }
    if ("spot".equals(i.launch.get("InstanceMarketOptions.MarketType"))) {
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
    if (q.get("VpcId") == null && !defaultVpc) {
      throw new Ec2Error(400, "VPCIdNotSpecified", "No default VPC for this user");
    }
    String vpc = q.get("VpcId") == null ? "vpc-default" : q.get("VpcId");
    if (groups.values().stream().anyMatch(g -> g.name().equals(name) && g.vpcId().equals(vpc))) {
      throw new Ec2Error(400, "InvalidGroup.Duplicate", "The security group '" + name + "' already exists for VPC '" + vpc + "'");
    }
    String id = newId("sg-");
    groups.put(id, new Group(id, name, vpc, FakeInstance.tags(q, "security-group"), new CopyOnWriteArrayList<>()));
    return new Xml().leaf("return", true).leaf("groupId", id).toString();
  }

  private String authorize(QueryParams q) {
    Group g = group(q.get("GroupId"));
    for (QueryParams perm : q.list("IpPermissions")) {
      for (QueryParams range : perm.list("IpRanges")) {
        String[] rule = {perm.get("IpProtocol"), perm.get("FromPort"), perm.get("ToPort"), range.get("CidrIp")};
        if (g.rules().stream().anyMatch(r -> java.util.Arrays.equals(r, rule))) {
          throw new Ec2Error(400, "InvalidPermission.Duplicate", "the specified rule already exists");
        }
        g.rules().add(rule);
      }
    }
    return new Xml().leaf("return", true).toString();
  }

  private Group group(String id) {
    Group g = groups.get(id);
    if (g == null) {
      throw new Ec2Error(400, "InvalidGroup.NotFound", "The security group '" + id + "' does not exist");
    }
    return g;
  }

  private String describeSecurityGroups(QueryParams q) {
    List<String> ids = q.values("GroupId");
    Xml x = new Xml().open("securityGroupInfo");
    for (Group g : groups.values()) {
      if (!ids.isEmpty() && !ids.contains(g.id())) {
        continue;
      }
      if (!matches(q.list("Filter"), g.tags(), Map.of("group-name", g.name(), "group-id", g.id(), "vpc-id", g.vpcId()))) {
        continue;
      }
      x.open("item").leaf("ownerId", "123456789012").leaf("groupId", g.id()).leaf("groupName", g.name())
          .leaf("groupDescription", "").leaf("vpcId", g.vpcId()).open("ipPermissions");
      for (String[] r : g.rules()) {
        x.open("item").leaf("ipProtocol", r[0]).leaf("fromPort", r[1]).leaf("toPort", r[2])
            .open("ipRanges").open("item").leaf("cidrIp", r[3]).close("item").close("ipRanges").close("item");
      }
      x.close("ipPermissions").open("tagSet");
      g.tags().forEach((k, v) -> x.open("item").leaf("key", k).leaf("value", v).close("item"));
      x.close("tagSet").close("item");
    }
    return x.close("securityGroupInfo").toString();
  }

  private String deleteSecurityGroup(QueryParams q) {
    Group g = group(q.get("GroupId"));
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
          .leaf("rootDeviceName", image.rootDevice()).leaf("rootDeviceType", "ebs").leaf("architecture", "x86_64").close("item");
    }
    return x.close("imagesSet").toString();
  }

  private String describeSubnets(QueryParams q) {
    Xml x = new Xml().open("subnetSet");
    for (String id : q.values("SubnetId")) {
      x.open("item").leaf("subnetId", id).leaf("vpcId", "vpc-" + id.substring(id.indexOf('-') + 1)).close("item");
    }
    return x.close("subnetSet").toString();
  }

  private String createTags(QueryParams q) {
    List<String> ids = q.values("ResourceId");
    for (String id : ids) {
      Map<String, String> tags = instances.containsKey(id) ? instances.get(id).tags : groups.containsKey(id) ? groups.get(id).tags() : null;
      if (tags == null) {
        throw new Ec2Error(400, "InvalidID", "The ID '" + id + "' is not valid");
      }
      for (QueryParams t : q.list("Tag")) {
        tags.put(t.get("Key"), t.get("Value"));
      }
    }
    return new Xml().leaf("return", true).toString();
  }

  @Override
  public synchronized void close() {
    http.stop(0);
    for (FakeInstance i : instances.values()) {
      i.powerOff();
    }
  }
}
