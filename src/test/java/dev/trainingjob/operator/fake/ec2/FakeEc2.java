package dev.trainingjob.operator.fake.ec2;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.math.RoundingMode;
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
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fake EC2 Query API (and SSM GetParameter) on 127.0.0.1 that the real AWS SDK talks to: form
 * requests in, EC2's XML and error documents out, with the HTTP status codes EC2 uses. This class
 * is the server, the request log, throttling and what tests set and read; {@link FakeAccount} keeps
 * the instances (pending → running → shutting-down → terminated, with delays), security groups and
 * images, honours ClientToken and applies the other faults. Each running instance is an SSH server
 * at its own 127.0.0.N with the keys its user data carried, so the operator's production SSH path
 * runs against it. Each instance has its metadata service ({@link FakeImds}, IMDSv2) under its id on one more
 * loopback server, which its processes find as TRAININGJOB_IMDS_URL; a spot instance can be interrupted with the notice
 * there first ({@link #interruptSpot(String, Duration)}); DescribeSpotPriceHistory answers from a table of prices
 * tests may set ({@link #setSpotPrice}, {@link #addSpotPrice}).
 */
public final class FakeEc2 implements AutoCloseable {
  /** One request as the fake saw it: the action, its parameters, the SDK's attempt header, the answer. */
  public record Request(String action, Map<String, String> params, int attempt, int maxAttempts, int status, String errorCode) {}

  public record Group(String id, String name, String vpcId, Map<String, String> tags, List<String[]> rules) {}

  private static final Pattern ATTEMPT = Pattern.compile("attempt=(\\d+);\\s*max=(\\d+)");
  public static final String UBUNTU_AMI = "ami-0ubuntu2404fake";
  public static final String DLAMI_AMI = "ami-0dlamipytorchfake";
  public static final String AL2023_AMI = "ami-0al2023fake";
  public static final String UBUNTU_ARM_AMI = "ami-0ubuntuarm64fake";

  private final HttpServer http;
  private final FakeImds imds;
  /** EC2's own doings that come whether or not anyone calls it (a spot instance's interruption). */
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "fake-ec2-timer");
    t.setDaemon(true);
    return t;
  });
  private final Path root;
  private final Path bin;
  private final Path s3Root;
  private final Path forbiddenLog;
  private final int sshPort;
  private final FakeAccount account;
  private final List<Request> log = new CopyOnWriteArrayList<>();
  private final AtomicInteger throttleNext = new AtomicInteger();
  private volatile Predicate<String> throttleWhich = a -> true;
  /** EC2's API limits, when a test turns them on: off by default, so that tests of other things need not pace themselves. */
  private volatile FakeApiLimits apiLimits;

  public FakeEc2(Path root) throws IOException {
    this.root = root.toAbsolutePath();
    this.bin = this.root.resolve("bin");
    this.s3Root = this.root.resolve("s3");
    this.forbiddenLog = this.root.resolve("forbidden-commands.log");
    Files.createDirectories(bin);
    Files.createDirectories(s3Root);
    for (String tool : List.of("aws", "sudo", "shutdown", "nvidia-smi", "df", "fake-power-off")) {
      try (InputStream in = FakeEc2.class.getResourceAsStream("/fake-ec2/bin/" + tool)) {
        Path p = bin.resolve(tool);
        Files.write(p, in.readAllBytes());
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
      }
    }
    try (ServerSocket s = new ServerSocket(0)) {
      sshPort = s.getLocalPort(); // free on every loopback address: nothing listens on the wildcard there
    }
    FakeAccount[] self = new FakeAccount[1];
    imds = new FakeImds(id -> self[0].lookup(id), Clock.systemUTC());
    account = new FakeAccount(this.root, Map.of("PATH", bin + ":" + System.getenv("PATH"), "FAKE_S3_ROOT", s3Root.toString(),
        "FAKE_FORBIDDEN_LOG", forbiddenLog.toString(), FakeInstance.IMDS_ROOT, imds.root().toString()), sshPort);
    self[0] = account;
    var images = account.images;
    var parameters = account.parameters;
    images.put(UBUNTU_AMI, new FakeAccount.Image(UBUNTU_AMI, "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20261101",
        "/dev/sda1", "ubuntu", "x86_64", 8));
    images.put(DLAMI_AMI, new FakeAccount.Image(DLAMI_AMI, "Deep Learning OSS Nvidia Driver AMI GPU PyTorch 2.9 (Ubuntu 24.04) 20261101",
        "/dev/sda1", "ubuntu", "x86_64", 75));
    images.put(AL2023_AMI, new FakeAccount.Image(AL2023_AMI, "al2023-ami-2023.9.20261101.0-kernel-6.1-x86_64", "/dev/xvda", "ec2-user",
        "x86_64", 8));
    images.put(UBUNTU_ARM_AMI, new FakeAccount.Image(UBUNTU_ARM_AMI, "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-20261101",
        "/dev/sda1", "ubuntu", "arm64", 8));
    for (FakeAccount.TypeInfo t : List.of(new FakeAccount.TypeInfo("g5.xlarge", "x86_64", 4),
        new FakeAccount.TypeInfo("g5.2xlarge", "x86_64", 8), new FakeAccount.TypeInfo("g6.xlarge", "x86_64", 4),
        new FakeAccount.TypeInfo("g4dn.xlarge", "x86_64", 4), new FakeAccount.TypeInfo("g5g.xlarge", "arm64", 4),
        new FakeAccount.TypeInfo("p4d.24xlarge", "x86_64", 96), new FakeAccount.TypeInfo("p5.48xlarge", "x86_64", 192),
        new FakeAccount.TypeInfo("t3.medium", "x86_64", 2), new FakeAccount.TypeInfo("c7g.large", "arm64", 2),
        new FakeAccount.TypeInfo("m5.large", "x86_64", 2), new FakeAccount.TypeInfo("c5.xlarge", "x86_64", 4),
        new FakeAccount.TypeInfo("r5.large", "x86_64", 2), new FakeAccount.TypeInfo("m6i.large", "x86_64", 2),
        new FakeAccount.TypeInfo("g6e.xlarge", "x86_64", 4))) {
      account.types.put(t.name(), t);
    }
    Instant pricedAt = Instant.now().minus(Duration.ofHours(1)).truncatedTo(ChronoUnit.SECONDS);
    DEFAULT_SPOT_PRICES.forEach((type, price) -> {
      // the second zone a little dearer, as zones' prices differ
      account.spotPrices.put(type, ZONES.get(0), SpotPrices.LINUX, price, pricedAt);
      account.spotPrices.put(type, ZONES.get(1), SpotPrices.LINUX,
          new BigDecimal(price).multiply(new BigDecimal("1.05")).setScale(4, RoundingMode.HALF_UP).toPlainString(), pricedAt);
    });
    parameters.put("/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id", UBUNTU_AMI);
    parameters.put("/aws/service/deeplearning/ami/x86_64/oss-nvidia-driver-gpu-pytorch-2.9-ubuntu-24.04/latest/ami-id", DLAMI_AMI);
    parameters.put("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64", AL2023_AMI);
    http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    http.createContext("/", this::handle);
    http.start();
  }

  /** The Availability Zones the fake region has spot prices for by default. */
  public static final List<String> ZONES = List.of("us-east-1a", "us-east-1b");

  /**
   * The Linux/UNIX spot price per hour in us-east-1a of each instance type the fake offers (us-east-1b's is 5% more),
   * about 40% of the on-demand price, as spot prices often are; DescribeSpotPriceHistory shows them as set an hour
   * before the fake started.
   */
  public static final Map<String, String> DEFAULT_SPOT_PRICES = Map.ofEntries(Map.entry("g5.xlarge", "0.3821"),
      Map.entry("g5.2xlarge", "0.4870"), Map.entry("g6.xlarge", "0.3412"), Map.entry("g4dn.xlarge", "0.2104"),
      Map.entry("g5g.xlarge", "0.1680"), Map.entry("p4d.24xlarge", "12.5604"), Map.entry("p5.48xlarge", "39.3280"),
      Map.entry("t3.medium", "0.0139"), Map.entry("c7g.large", "0.0290"), Map.entry("m5.large", "0.0371"),
      Map.entry("c5.xlarge", "0.0672"), Map.entry("r5.large", "0.0472"), Map.entry("m6i.large", "0.0385"),
      Map.entry("g6e.xlarge", "0.7444"));

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

  /**
   * Power commands (sudo, shutdown) the instances tried to run; a test's dead-man's switch must never get there
   * (its power-off command is fake-power-off, which FakeInstance#powerOffRequests reads).
   */
  public List<String> forbiddenCommands() throws IOException {
    return Files.exists(forbiddenLog) ? Files.readAllLines(forbiddenLog) : List.of();
  }

  // ---- behaviour and faults

  public FakeEc2 delays(Duration pending, Duration shuttingDown) {
    account.pendingFor = pending;
    account.shuttingDownFor = shuttingDown;
    return this;
  }

  /** Answers at most this many items per DescribeInstances page, whatever MaxResults says. */
  public FakeEc2 pageSize(int size) {
    account.pageSize = size;
    return this;
  }

  /** The next n requests (of the actions matched) get RequestLimitExceeded. */
  public void throttleNext(int n, Predicate<String> actions) {
    throttleWhich = actions;
    throttleNext.set(n);
  }

  /**
   * From now on the fake throttles as EC2 does, with AWS's default token buckets per action and for instances
   * ({@link FakeApiLimits}), refilled by real time: a call that finds its bucket empty gets RequestLimitExceeded.
   */
  public FakeEc2 throttleAsEc2() {
    return throttleAsEc2(Clock.systemUTC());
  }

  /** As {@link #throttleAsEc2()}, the buckets refilled by a clock the test moves. */
  public FakeEc2 throttleAsEc2(Clock clock) {
    apiLimits = new FakeApiLimits(clock);
    return this;
  }

  /** The RequestLimitExceeded answers EC2's API limits gave so far, by action (none before {@link #throttleAsEc2}). */
  public Map<String, Integer> requestLimitExceeded() {
    FakeApiLimits limits = apiLimits;
    return limits == null ? Map.of() : limits.refused();
  }

  /**
   * Instances from now on run without booting: no bootcmd, no sshd (nobody can log in). For tests of the EC2 calls
   * alone, with more instances than this machine could boot.
   */
  public FakeEc2 bootless() {
    account.bootless = true;
    return this;
  }

  public void noCapacityFor(String instanceType) {
    account.noCapacity.add(instanceType);
  }

  public void capacityReturns(String instanceType) {
    account.noCapacity.remove(instanceType);
  }

  /** Every vCPU quota bucket named (Standard, G and VT, P, ...) is used up: on-demand and spot launches there are refused. */
  public void exhaustQuota(String bucket) {
    account.quotaExhausted.add(bucket);
  }

  /** RunInstances of this instance type ("*": any) answers this error, as an account or region would. */
  public void failLaunches(String instanceType, int status, String code, String message) {
    account.launchErrors.put(instanceType, new FakeAccount.Ec2Error(status, code, message));
  }

  /**
   * The next launch of this type makes an instance that EC2 terminates at once, and the answer is
   * lost (500): the SDK asks again with the same ClientToken and gets IdempotentInstanceTerminated.
   */
  public void terminateOnLaunch(String instanceType) {
    account.terminateOnLaunch.add(instanceType);
  }

  /**
   * The next launch of this type meets an earlier launch with the same ClientToken but other
   * parameters, whose instance is gone (terminated, its tags dropped): IdempotentParameterMismatch.
   */
  public void earlierLaunchWithOtherParameters(String instanceType) {
    account.mismatchOnLaunch.add(instanceType);
  }

  /** Capacity, quotas and injected launch errors back to normal (for tests that share one account). */
  public void clearFaults() {
    account.noCapacity.clear();
    account.quotaExhausted.clear();
    account.launchErrors.clear();
    account.terminateOnLaunch.clear();
    account.mismatchOnLaunch.clear();
    account.tagsDroppedAfter = null;
  }

  /** A subnet of a VPC that gives instances a public address, or not. */
  public void addSubnet(String id, String vpcId, boolean mapsPublicIp) {
    account.subnets.put(id, new FakeAccount.Subnet(id, vpcId, mapsPublicIp));
  }

  /** Terminated instances lose their tags after this long (EC2 keeps them listed about an hour, tags shorter). */
  public void dropTagsOfTerminatedAfter(Duration delay) {
    account.tagsDroppedAfter = delay;
  }

  /**
   * EC2 takes a spot instance back at once, without a notice first (as when the notice, which EC2 gives on a best
   * effort basis, never came): it starts terminating, state reason Server.SpotInstanceTermination.
   */
  public void interruptSpot(String id) {
    account.interruptSpot(id);
  }

  /**
   * EC2 interrupts a running spot instance, notice first: from now on the instance's IMDS answers
   * spot/instance-action with {"action": "terminate", "time": ...} (the time it is terminated, to the second), and
   * once {@code noticeToTermination} passed EC2 starts terminating it, state reason Server.SpotInstanceTermination,
   * whether or not anyone calls EC2 meanwhile (its processes end, its sshd goes away). EC2's notice comes two minutes
   * before ({@link #SPOT_NOTICE}); a test may take less.
   *
   * @throws IllegalStateException for an instance that is not a running spot instance, or was already told
   */
  public void interruptSpot(String instanceId, Duration noticeToTermination) {
    if (noticeToTermination.isNegative()) {
      throw new IllegalArgumentException("a notice comes before the termination, not " + noticeToTermination + " after");
    }
    Instant due = account.noticeSpotInterruption(instanceId, noticeToTermination);
    scheduleInterruptions(Duration.between(Instant.now(), due));
  }

  /** How long before a spot interruption EC2 gives notice. */
  public static final Duration SPOT_NOTICE = Duration.ofMinutes(2);

  private void scheduleInterruptions(Duration in) {
    // the timer's clock is not the account's: a task a little early looks again
    timer.schedule(() -> {
      Duration next = account.interruptionsDue();
      if (next != null) {
        scheduleInterruptions(next);
      }
    }, Math.max(0, in.toMillis()) + 1, TimeUnit.MILLISECONDS);
  }

  /**
   * The instance's metadata service: {@code <url>/latest/api/token}, {@code <url>/latest/meta-data/...}. Processes
   * on the instance find it in their environment as TRAININGJOB_IMDS_URL.
   */
  public URI imdsUrl(String instanceId) {
    return URI.create(imds.root() + "/" + instanceId);
  }

  /**
   * The Linux/UNIX spot price of an instance type in a zone changes to this (dollars an hour, e.g. "0.3821"), now.
   * DescribeSpotPriceHistory writes it with six decimals, as EC2 does.
   */
  public FakeEc2 setSpotPrice(String instanceType, String zone, String price) {
    return addSpotPrice(instanceType, zone, SpotPrices.LINUX, price, Instant.now());
  }

  /** A change of a spot price at a time, past or not, for a history; one at the same time as another replaces it. */
  public FakeEc2 addSpotPrice(String instanceType, String zone, String productDescription, String price, Instant timestamp) {
    if (!account.types.containsKey(instanceType)) {
      throw new IllegalArgumentException("the fake region offers no " + instanceType + ": " + account.types.keySet());
    }
    if (!SpotPrices.PRODUCTS.contains(productDescription)) {
      throw new IllegalArgumentException("EC2 has no product description '" + productDescription + "': " + SpotPrices.PRODUCTS);
    }
    account.spotPrices.put(instanceType, zone, productDescription, price, timestamp);
    return this;
  }

  /** For this long after a launch, DescribeInstances does not show the instance (and InvalidInstanceID.NotFound by id). */
  public void invisibleAfterLaunch(Duration window) {
    account.invisibleAfterLaunch = window;
  }

  /** The next n DeleteSecurityGroup calls fail with DependencyViolation. */
  public void dependencyViolations(int n) {
    account.dependencyViolations.set(n);
  }

  /** An account (region) whose default VPC was deleted: groups and launches need a subnet. */
  public void withoutDefaultVpc() {
    account.defaultVpc = false;
  }

  /** Instances boot as from an image whose cloud-init skips bootcmd: no guard is armed on them. */
  public void skipBootcmd() {
    account.bootcmd = false;
  }

  /**
   * Instances launched from now on keep serving their host key when a new one is written, until
   * FakeInstance#resumeSshdReloads: an sshd whose reload is late, or an operator that died between installing a
   * key and seeing it presented.
   */
  public void holdSshdReloads() {
    account.sshdReloadsHeld = true;
  }

  /** Reboots a running instance (as RebootInstances would): every process ends, the disk stays, it boots again. */
  public void reboot(String id) {
    account.reboot(id);
  }

  /** Someone terminated the instance in the console. */
  public void terminateFromOutside(String id) {
    account.terminateFromOutside(id);
  }

  public void putParameter(String name, String value) {
    account.parameters.put(name, value);
  }

  // ---- what tests look at

  public List<Request> requests() {
    return List.copyOf(log);
  }

  public List<Request> requests(String action) {
    return log.stream().filter(r -> r.action().equals(action)).toList();
  }

  public List<FakeInstance> instances() {
    return account.instances();
  }

  public FakeInstance instance(String id) {
    return account.instance(id);
  }

  public List<FakeInstance> notTerminated() {
    return account.instances().stream().filter(i -> !"terminated".equals(i.state())).toList();
  }

  public List<Group> groups() {
    return account.groups();
  }

  /** An instance launched "by this operator" earlier, outside any job (the sweeper's prey). */
  public FakeInstance launchTagged(Map<String, String> tags, Instant launchTime) {
    return account.launchTagged(tags, launchTime);
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

  private Answer ssm(String action, String body) {
    if (!"GetParameter".equals(action)) {
      return new Answer(400, "application/x-amz-json-1.1", "{\"__type\":\"InvalidAction\",\"message\":\"" + action + "\"}", "InvalidAction");
    }
    Matcher m = Pattern.compile("\"Name\"\\s*:\\s*\"([^\"]+)\"").matcher(body);
    String name = m.find() ? m.group(1) : "";
    String value = account.parameters.get(name);
    if (value == null) {
      return new Answer(400, "application/x-amz-json-1.1", "{\"__type\":\"ParameterNotFound\",\"message\":\"Parameter " + name
          + " not found.\"}", "ParameterNotFound");
    }
    return new Answer(200, "application/x-amz-json-1.1", "{\"Parameter\":{\"Name\":\"" + name + "\",\"Type\":\"String\",\"Value\":\""
        + value + "\",\"Version\":1,\"DataType\":\"aws:ec2:image\"}}", null);
  }

  private Answer ec2(String action, QueryParams q) {
    if (throttleNext.get() > 0 && throttleWhich.test(action) && throttleNext.getAndDecrement() > 0) {
      return error(REQUEST_LIMIT_EXCEEDED);
    }
    FakeApiLimits limits = apiLimits;
    if (limits != null && !limits.admit(action, q)) {
      return error(REQUEST_LIMIT_EXCEEDED);
    }
    try {
      String inner = account.answer(action, q);
      String xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<" + action + "Response xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
          + "<requestId>" + UUID.randomUUID() + "</requestId>" + inner + "</" + action + "Response>";
      return new Answer(200, "text/xml;charset=UTF-8", xml, null);
    } catch (FakeAccount.Ec2Error e) {
      return error(e);
    }
  }

  /** What EC2 answers a call over its API limits. */
  private static final FakeAccount.Ec2Error REQUEST_LIMIT_EXCEEDED = new FakeAccount.Ec2Error(503, "RequestLimitExceeded",
      "Request limit exceeded.");

  private static Answer error(FakeAccount.Ec2Error e) {
    String xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>" + e.code + "</Code><Message>"
        + Xml.escape(e.getMessage()) + "</Message></Error></Errors><RequestID>" + UUID.randomUUID() + "</RequestID></Response>";
    return new Answer(e.status, "text/xml;charset=UTF-8", xml, e.code);
  }

  @Override
  public void close() {
    timer.shutdownNow();
    http.stop(0);
    imds.close();
    account.powerOffAll();
  }
}
