package dev.trainingjob.operator.fake.ec2;

import dev.trainingjob.operator.provider.local.LocalSshServer;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.sshd.common.config.keys.AuthorizedKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;
import org.apache.sshd.common.util.security.SecurityUtils;

/**
 * One instance of the fake: its launch parameters, its state, and once running an SSH server at
 * its own loopback address with the host key and login key its user data asked for.
 */
public final class FakeInstance {
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
  final String sshUser;
  String state = "pending";
  Instant runningAt;
  Instant terminateRequestedAt;
  Instant terminatedAt;
  String stateReasonCode;
  String stateReasonMessage;
  String subnetId;
  boolean publicIp = true;
  LocalSshServer ssh;
  private final Path root;

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
    String named = CloudConfig.namedUser(userData);
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

  /** Whether EC2 gave it a public address (a subnet that maps none, and no AssociatePublicIpAddress: none). */
  public boolean hasPublicIp() {
    return publicIp;
  }

  public String userData() {
    return userData;
  }

  /** The login user's home: where the job directory lives. */
  public Path home() {
    return root.resolve(sshUser);
  }

  /** Boots: an SSH server with the host key and authorised key from the user data. */
  void boot(int port, Map<String, String> env) throws Exception {
    if (!userData.contains("ed25519_private")) {
      return; // launched without the operator's user data: it runs, but nobody can log in
    }
    KeyPair hostKey = CloudConfig.hostKey(userData);
    ssh = new LocalSshServer(root, address, port, hostKey, env);
    ssh.restrictTo(sshUser);
    for (String line : CloudConfig.authorizedKeys(userData)) {
      PublicKey key = AuthorizedKeyEntry.parseAuthorizedKeyEntry(line).resolvePublicKey(null, PublicKeyEntryResolver.FAILING);
      ssh.authorize(key);
    }
  }

  /** Powers off: the SSH server goes, and so does every job session started on it. */
  void powerOff() {
    if (ssh != null) {
      try {
        ssh.close();
      } catch (Exception ignored) {
        // already closed
      }
      ssh = null;
    }
    Path jobs = home().resolve(".trainingjob");
    if (!Files.isDirectory(jobs)) {
      return;
    }
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

  /** Reads what cloud-init would: the keys in a #cloud-config document. */
  static final class CloudConfig {
    private CloudConfig() {}

    static String namedUser(String doc) {
      for (String line : doc.split("\n")) {
        if (line.startsWith("  - name: ")) {
          return line.substring("  - name: ".length()).trim();
        }
      }
      return null;
    }

    static List<String> authorizedKeys(String doc) {
      return doc.lines().map(String::trim).filter(l -> l.startsWith("- ssh-")).map(l -> l.substring(2)).toList();
    }

    static KeyPair hostKey(String doc) throws Exception {
      StringBuilder pem = new StringBuilder();
      boolean in = false;
      for (String line : doc.split("\n")) {
        if (line.startsWith("  ed25519_private: |")) {
          in = true;
          continue;
        }
        if (in) {
          if (!line.startsWith("    ")) {
            break;
          }
          pem.append(line.substring(4)).append('\n');
        }
      }
      if (pem.length() == 0) {
        throw new IllegalStateException("the user data carries no ed25519 host key");
      }
      var keys = SecurityUtils.loadKeyPairIdentities(null, () -> "user-data",
          new ByteArrayInputStream(pem.toString().getBytes(StandardCharsets.UTF_8)), null);
      return keys.iterator().next();
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
