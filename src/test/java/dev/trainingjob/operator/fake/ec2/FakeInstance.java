package dev.trainingjob.operator.fake.ec2;

import dev.trainingjob.operator.provider.local.LocalSshServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.sshd.common.config.keys.AuthorizedKeyEntry;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;
import org.apache.sshd.common.util.security.SecurityUtils;

/**
 * One instance of the fake: its launch parameters, its state, and once running what cloud-init runs
 * at boot (bootcmd: the machine's guard) and an SSH server at its own loopback address with the host
 * key and login key its user data asked for. Its disk is a folder that outlives reboots.
 *
 * <p>Its sshd, like a real one, serves the host key in its {@code etc/ssh/ssh_host_ed25519_key}: cloud-init
 * writes the user data's there at the first boot only, and the operator's replace-host-key.sh (through the
 * script's test hook TRAININGJOB_SSHD_ROOT) replaces it. Where a real sshd is reloaded, this one watches the
 * file and starts again with the new key: unlike a reload, that also drops the connections already open,
 * which the operator survives as it survives any dropped connection.
 */
public final class FakeInstance {
  /** Where the fake power-off tool records what the guard asked for (the instance's root holds it). */
  private static final String POWER_OFF_LOG = "power-off-requests";
  /** In the environment of every process the instance starts, to end them all at power-off. */
  private static final String INSTANCE_MARKER = "FAKE_EC2_INSTANCE";
  /** In the boot environment FakeEc2 hands over: the fake IMDS's root URL, which each instance serves under its id. */
  static final String IMDS_ROOT = "FAKE_IMDS_ROOT";
  /** What every process on the instance finds its metadata service at (where a real one has http://169.254.169.254). */
  public static final String IMDS_URL = "TRAININGJOB_IMDS_URL";
  /** Where sshd reads its host key, under the instance's root. */
  private static final String HOST_KEY_FILE = "etc/ssh/ssh_host_ed25519_key";
  public final String id;
  public final String clientToken;
  public final String fingerprint;
  public final String instanceType;
  public final String imageId;
  public final String address;
  public final Instant launchTime;
  public final Map<String, String> tags;
  public final Map<String, String> volumeTags;
  public final List<String> securityGroupIds = new java.util.concurrent.CopyOnWriteArrayList<>();
  final QueryParams launch;
  final String userData;
  private final FakeCloudInit cloudInit;
  final String sshUser;
  String state = "pending";
  Instant runningAt;
  Instant terminateRequestedAt;
  Instant terminatedAt;
  String stateReasonCode;
  String stateReasonMessage;
  String subnetId;
  /** Its Availability Zone (the fake's subnets and default subnet are all in the first). */
  String zone = FakeEc2.ZONES.get(0);
  boolean publicIp = true;
  LocalSshServer ssh;
  /**
   * Set once EC2 decided to interrupt this spot instance: when the notice went out, the time the notice announces
   * (instance-action), and when EC2 starts terminating it. Volatile: the fake IMDS reads them without the account's lock.
   */
  volatile Instant spotNoticeAt;
  volatile Instant spotActionTime;
  volatile Instant spotTerminateAt;
  private final Path root;
  /** What the SSH server is started with; kept to start it again with another host key. */
  private String bootAddress;
  private int bootPort;
  private Map<String, String> bootEnv;
  private KeyPair servedHostKey;
  private Thread keyWatcher;
  private WatchService keyWatch;
  private boolean reloadsHeld;

  FakeInstance(String id, String clientToken, String fingerprint, QueryParams launch, String address, Instant launchTime,
      Map<String, String> tags, Map<String, String> volumeTags, String defaultUser, Path root) {
    this.id = id;
    this.clientToken = clientToken;
    this.fingerprint = fingerprint;
    this.launch = launch;
    this.instanceType = launch.get("InstanceType");
    this.imageId = launch.get("ImageId");
    this.address = address;
    this.launchTime = launchTime;
    this.tags = tags;
    this.volumeTags = volumeTags;
    String data = launch.get("UserData");
    this.userData = data == null ? "" : new String(java.util.Base64.getDecoder().decode(data), StandardCharsets.UTF_8);
    this.cloudInit = new FakeCloudInit(userData);
    String named = cloudInit.namedUser();
    this.sshUser = named != null ? named : defaultUser;
    this.root = root;
  }

  /** A parameter of the RunInstances request that made it, e.g. MetadataOptions.HttpTokens. */
  public String launchParam(String key) {
    return launch.get(key);
  }

  public synchronized String state() {
    return state;
  }

  /** Why it left pending/running, as DescribeInstances says (Client.UserInitiatedShutdown, Server.SpotInstanceTermination...). */
  public synchronized String stateReason() {
    return stateReasonCode;
  }

  /** Whether it was launched as a spot instance (InstanceMarketOptions.MarketType=spot). */
  public boolean spot() {
    return "spot".equals(launch.get("InstanceMarketOptions.MarketType"));
  }

  /** When the fake IMDS started showing a spot interruption notice for it; null while there is none. */
  public Instant spotNoticeAt() {
    return spotNoticeAt;
  }

  /** Whether EC2 gave it a public address (a subnet that maps none, and no AssociatePublicIpAddress: none). */
  public boolean hasPublicIp() {
    return publicIp;
  }

  public String userData() {
    return userData;
  }

  /** The login user's home: where the job directory lives. */
  /** The private host key file sshd serves, as the instance keeps it. */
  public Path hostKeyFile() {
    return root.resolve(HOST_KEY_FILE);
  }

  public Path home() {
    return root.resolve(sshUser);
  }

  /** From now on the instance's GPU reports this utilisation (nvidia-smi; 87% until a test says otherwise). */
  public void setGpuUtilization(int percent) throws java.io.IOException {
    Files.createDirectories(root);
    Files.writeString(root.resolve("fake-gpu-utilization"), percent + "\n");
  }

  /** From now on df reports the instance's disk as this size with this much used (KiB), as a nearly full volume. */
  public void setDisk(long totalKib, long usedKib) throws java.io.IOException {
    Files.createDirectories(root);
    Files.writeString(root.resolve("fake-disk"), totalKib + " " + usedKib + "\n");
  }

  /** The machine guard's state directory on this instance's disk (armed-at, guard.log, job/heartbeat, job/ceiling...). */
  public Path guardState() {
    return root.resolve("var/lib/trainingjob-guard");
  }

  /** The guard's process while it runs (it writes its pid when it starts). */
  public Optional<ProcessHandle> guard() {
    try {
      long pid = Long.parseLong(Files.readString(guardState().resolve("guard.pid")).trim());
      return ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** What the instance asked for when it powered itself off: one line each time, with the guard's reason. */
  public List<String> powerOffRequests() throws IOException {
    Path log = root.resolve(POWER_OFF_LOG);
    return Files.exists(log) ? Files.readAllLines(log) : List.of();
  }

  boolean powerOffRequested() {
    return Files.exists(root.resolve(POWER_OFF_LOG));
  }

  /**
   * Boots: runs what cloud-init would at every boot (bootcmd; the guard's state under this instance's root,
   * through the guard's test hook), then an SSH server with the host key on its disk (the user data's, written
   * there at the first boot) and the authorised key from the user data.
   */
  void boot(int port, Map<String, String> env, boolean runBootcmd) throws Exception {
    Map<String, String> machine = new LinkedHashMap<>(env);
    machine.put("TRAININGJOB_GUARD_ROOT", root.toString()); // the test hook: see MachineGuard
    machine.put("TRAININGJOB_SSHD_ROOT", root.toString()); // the test hook of replace-host-key.sh
    machine.put("FAKE_POWER_OFF_LOG", root.resolve(POWER_OFF_LOG).toString());
    machine.put(INSTANCE_MARKER, id);
    machine.put("FAKE_INSTANCE_ROOT", root.toString()); // where the fake nvidia-smi and df read what a test made them say
    String imds = machine.remove(IMDS_ROOT);
    if (imds != null) {
      machine.put(IMDS_URL, imds + "/" + id); // its own metadata, as 169.254.169.254 is each instance's own
    }
    Files.createDirectories(root);
    String bootcmd = cloudInit.bootcmdScript();
    if (runBootcmd && bootcmd != null) {
      runBootcmd(bootcmd, machine);
    }
    if (!userData.contains("ed25519_private")) {
      return; // launched without the operator's user data: it runs, but nobody can log in
    }
    Path keyFile = root.resolve(HOST_KEY_FILE);
    if (!Files.exists(keyFile)) {
      // cloud-init's ssh module, once per instance: ssh_deletekeys, then the ssh_keys of the user data
      Files.createDirectories(keyFile.getParent());
      Files.writeString(keyFile, cloudInit.hostKeyText());
    }
    synchronized (this) {
      bootAddress = address;
      bootPort = port;
      bootEnv = machine;
      startSsh(readHostKey(keyFile));
      watchHostKey(keyFile.getParent());
    }
  }

  /** Under this instance's lock: the SSH server, with the login key of the user data. */
  private void startSsh(KeyPair hostKey) throws Exception {
    ssh = new LocalSshServer(root, bootAddress, bootPort, hostKey, bootEnv);
    servedHostKey = hostKey;
    ssh.restrictTo(sshUser);
    for (String line : cloudInit.authorizedKeys()) {
      PublicKey key = AuthorizedKeyEntry.parseAuthorizedKeyEntry(line).resolvePublicKey(null, PublicKeyEntryResolver.FAILING);
      ssh.authorize(key);
    }
  }

  private static KeyPair readHostKey(Path file) throws Exception {
    try (var in = Files.newInputStream(file)) {
      return SecurityUtils.loadKeyPairIdentities(null, file::toString, in, null).iterator().next();
    }
  }

  /** Where a real sshd would be reloaded: a change of the key file starts the server again with it. */
  private void watchHostKey(Path dir) throws IOException {
    keyWatch = dir.getFileSystem().newWatchService();
    dir.register(keyWatch, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
    WatchService watch = keyWatch;
    keyWatcher = new Thread(() -> {
      try {
        while (true) {
          WatchKey key = watch.take();
          key.pollEvents();
          key.reset();
          reloadSshd();
        }
      } catch (InterruptedException | ClosedWatchServiceException e) {
        // powered off
      }
    }, "fake-sshd-" + id);
    keyWatcher.setDaemon(true);
    keyWatcher.start();
  }

  /** Serves the key on disk, if it is another than the one served and reloads are not held. */
  private synchronized void reloadSshd() {
    if (ssh == null || reloadsHeld) {
      return;
    }
    try {
      KeyPair onDisk = readHostKey(root.resolve(HOST_KEY_FILE));
      if (KeyUtils.compareKeys(onDisk.getPublic(), servedHostKey.getPublic())) {
        return;
      }
      ssh.close();
      ssh = null; // should it not start again, the instance is as unreachable as one whose sshd failed to reload
      // a real sshd keeps its listening socket through a reload; this one binds the port anew, which the
      // connections it just closed can hold for a moment ("Address already in use"): try again, as sshd never fails
      for (int attempt = 1; ; attempt++) {
        try {
          startSsh(onDisk);
          break;
        } catch (java.io.IOException bind) {
          if (attempt == 100) {
            throw bind;
          }
          Thread.sleep(50);
        }
      }
    } catch (Exception e) {
      // half a key, or none: sshd would refuse to reload; the file's next change tries again
    }
  }

  /** The host key the user data carries (readable by anyone allowed ec2:DescribeInstanceAttribute). */
  public PublicKey userDataHostKey() throws Exception {
    return cloudInit.hostKey().getPublic();
  }

  /** The host key the instance's sshd presents now. */
  public synchronized PublicKey hostKey() {
    return servedHostKey == null ? null : servedHostKey.getPublic();
  }

  /**
   * From now on a new host key on disk is not served until {@link #reloadSshd} runs again: as if sshd's reload
   * were late, or the operator died between installing a key and seeing it.
   */
  public synchronized void holdSshdReloads() {
    reloadsHeld = true;
  }

  /** Serves what is on disk now and reloads again on every change. */
  public void resumeSshdReloads() {
    synchronized (this) {
      reloadsHeld = false;
    }
    reloadSshd();
  }

  /** Whether a host key other than the one served waits on disk (installed, not yet served). */
  public synchronized boolean hostKeyWaitingOnDisk() throws Exception {
    Path file = root.resolve(HOST_KEY_FILE);
    return servedHostKey != null && Files.exists(file)
        && !KeyUtils.compareKeys(readHostKey(file).getPublic(), servedHostKey.getPublic());
  }

  private void runBootcmd(String script, Map<String, String> env) throws Exception {
    Path file = root.resolve("var/lib/cloud/bootcmd");
    Path log = root.resolve("var/log/cloud-init-output.log");
    Files.createDirectories(file.getParent());
    Files.createDirectories(log.getParent());
    Files.writeString(file, script);
    ProcessBuilder pb = new ProcessBuilder("/bin/sh", file.toString()).directory(root.toFile())
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().putAll(env);
    pb.environment().put("INSTANCE_ID", id);
    Process p = pb.start();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("bootcmd of " + id + " did not finish within 30s; see " + log);
    }
    if (p.exitValue() != 0) {
      // cloud-init logs a failed bootcmd and boots on
      Files.writeString(log, "bootcmd exited with " + p.exitValue() + "\n", java.nio.file.StandardOpenOption.APPEND);
    }
  }

  /** Reboots: every process goes (SSH, job sessions, the guard), the disk stays, and it boots again. */
  void reboot(int port, Map<String, String> env, boolean runBootcmd) throws Exception {
    powerOff();
    boot(port, env, runBootcmd);
  }

  /** Powers off: the SSH server goes, and so does every job session started on it and every process it started. */
  void powerOff() {
    synchronized (this) {
      if (keyWatch != null) {
        try {
          keyWatch.close();
        } catch (IOException ignored) {
          // already closed
        }
        keyWatch = null;
      }
      if (ssh != null) {
        try {
          ssh.close();
        } catch (Exception ignored) {
          // already closed
        }
        ssh = null;
      }
    }
    Path jobs = home().resolve(".trainingjob");
    if (Files.isDirectory(jobs)) {
      try (Stream<Path> dirs = Files.list(jobs)) {
        for (Path dir : dirs.toList()) {
          if (Files.exists(dir.resolve("stop.sh"))) {
            Process p = new ProcessBuilder("bash", dir.resolve("stop.sh").toString(), "0").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
              p.destroyForcibly();
            }
          }
        }
      } catch (Exception e) {
        throw new IllegalStateException("could not stop the sessions of " + id, e);
      }
    }
    killEverythingStarted();
  }

  /**
   * Ends every process this instance started, the guard and its sleep included, found by the marker in their
   * environment (as stop.sh finds a job's): no test leaves one behind. A few passes, for a child started mid-scan.
   */
  private void killEverythingStarted() {
    String marker = INSTANCE_MARKER + "=" + id;
    long self = ProcessHandle.current().pid();
    for (int pass = 0; pass < 5; pass++) {
      List<ProcessHandle> found = ProcessHandle.allProcesses()
          .filter(p -> p.pid() != self && environment(p.pid()).contains(marker)).toList();
      if (found.isEmpty()) {
        return;
      }
      found.forEach(ProcessHandle::destroyForcibly);
      for (ProcessHandle p : found) {
        p.onExit().completeOnTimeout(p, 5, TimeUnit.SECONDS).join();
      }
    }
  }

  private static List<String> environment(long pid) {
    try {
      return List.of(new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "environ")), StandardCharsets.UTF_8)
          .split("\0"));
    } catch (IOException | RuntimeException e) {
      return List.of(); // gone, or another user's
    }
  }

  static Map<String, String> tags(QueryParams params, String resourceType) {
    Map<String, String> tags = new LinkedHashMap<>();
    for (QueryParams spec : params.list("TagSpecification")) {
      if (resourceType.equals(spec.get("ResourceType"))) {
        tags.putAll(checkedTags(spec.list("Tag")));
      }
    }
    return tags;
  }

  /** Tags as EC2 takes them: keys up to 128 characters and not aws:, values up to 256, at most 50 a resource. */
  static Map<String, String> checkedTags(java.util.List<QueryParams> given) {
    if (given.size() > 50) {
      throw new FakeAccount.Ec2Error(400, "TagLimitExceeded", "The maximum number of tags for a resource is 50");
    }
    Map<String, String> tags = new LinkedHashMap<>();
    for (QueryParams tag : given) {
      String key = tag.get("Key");
      String value = tag.get("Value") == null ? "" : tag.get("Value");
      if (key == null || key.isEmpty() || key.length() > 128 || key.toLowerCase(java.util.Locale.ROOT).startsWith("aws:")) {
        throw new FakeAccount.Ec2Error(400, "InvalidParameterValue", "Tag key '" + key + "' is not valid: up to 128 characters, not starting with aws:");
      }
      if (value.length() > 256) {
        throw new FakeAccount.Ec2Error(400, "InvalidParameterValue", "Tag value exceeds the maximum length of 256 characters");
      }
      tags.put(key, value);
    }
    return tags;
  }
}
