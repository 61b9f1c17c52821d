package dev.trainingjob.operator.provider.ec2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.cli.plugin.JobAccess;
import dev.trainingjob.operator.fake.ec2.Ec2Harness;
import dev.trainingjob.operator.fake.ec2.FakeInstance;
import dev.trainingjob.operator.remote.HostKeyMismatchException;
import dev.trainingjob.operator.remote.JobRef;
import dev.trainingjob.operator.remote.ProbeResult;
import dev.trainingjob.operator.remote.RemoteSettings;
import dev.trainingjob.operator.remote.SshTarget;
import dev.trainingjob.operator.remote.ssh.SshKeys;
import dev.trainingjob.operator.remote.ssh.SshRemoteHosts;
import dev.trainingjob.operator.status.Conditions;
import io.fabric8.kubernetes.api.model.Secret;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.PublicKey;
import java.time.Duration;
import java.util.Base64;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.junit.jupiter.api.Test;

/**
 * The host key the user data carried (readable by anyone allowed ec2:DescribeInstanceAttribute) is
 * worthless once the operator has logged in: the instance presents a key generated for it, the job's
 * Secret records that one, and nothing that expects the old one gets in.
 */
class Ec2HostKeyTest extends WithEc2Operator {
  /** Runs until the test writes the go file, so the machine can be looked at while the job runs. */
  static final String GATED = """
      import os, time
      print("waiting for go", flush=True)
      while not os.path.exists("go"):
          time.sleep(0.1)
      print("done")
      """;

  @Test
  void afterTheFirstLoginTheInstancePresentsAKeyOfItsOwnAndTheUserDataKeyIsRefused() throws Exception {
    h.create(Ec2Harness.job("rekey", GATED));
    await().atMost(Duration.ofSeconds(90)).until(() -> h.phase("rekey") == Phase.Running);
    FakeInstance instance = h.fake.instances().get(0);
    PublicKey userDataKey = instance.userDataHostKey();

    // the instance presents a new key, and the Secret expects that one, and no other
    assertThat(same(instance.hostKey(), userDataKey)).as("still the user data's key").isFalse();
    Secret secret = secret("rekey");
    assertThat(same(publicKey(secret, JobKeys.HOST_PUBLIC), instance.hostKey())).isTrue();
    assertThat(secret.getData()).doesNotContainKey(JobKeys.PENDING_HOST_PUBLIC);
    // the new key was made on the instance: its private half is there, and nowhere in the cluster
    // (the first line of every ed25519 key's body is the same header: the second is the key's own)
    String body = Files.readString(instance.hostKeyFile()).lines().filter(l -> !l.startsWith("-----")).skip(1).findFirst().orElseThrow();
    assertThat(secret.getData().values()).noneMatch(v -> text(v).contains(body));
    assertThat(h.get("rekey").toString()).doesNotContain(body);
    assertThat(h.events("rekey")).anySatisfy(e -> {
      assertThat(e.getReason()).isEqualTo("HostKeyReplaced");
      assertThat(e.getMessage()).contains(KeyUtils.getFingerPrint(instance.hostKey()));
    });

    TrainingJob job = h.get("rekey");
    try (var ssh = new SshRemoteHosts(RemoteSettings.defaults())) {
      // whoever read the user data and poses as the instance is no longer believed: a client expecting that key is refused
      var login = SshKeys.privateKey(text(secret, JobKeys.LOGIN_PRIVATE), "test");
      var expectingUserData = new SshTarget(job.getStatus().instance.address, job.getStatus().instance.sshPort, "ubuntu", login,
          userDataKey, false);
      assertThatThrownBy(() -> ssh.connect(expectingUserData)).isInstanceOf(HostKeyMismatchException.class);

      // the kubectl plugin (attach, logs, tunnel) reads the recorded key and reaches the machine with it
      var machine = JobAccess.machine(h.client(), Ec2Harness.NS, "rekey", tmp.resolve("local"));
      assertThat(same(machine.target().hostKey(), instance.hostKey())).isTrue();
      assertThat(ssh.connect(machine.target()).probe(machine.ref()).state()).isEqualTo(ProbeResult.State.RUNNING);
    }

    // and the job goes on to the end
    Files.writeString(instance.home().resolve(JobRef.of(job).directory()).resolve("job/go"), "");
    await().atMost(Duration.ofSeconds(90)).until(() -> h.phase("rekey") == Phase.Succeeded
        && Conditions.isTrue(h.get("rekey").getStatus(), ConditionType.RELEASED));
    assertThat(h.fake.forbiddenCommands()).isEmpty();
  }

  @Test
  void anOperatorThatDiesBetweenInstallingTheNewKeyAndSeeingItStillConnectsAfterItsRestart() throws Exception {
    h.fake.holdSshdReloads(); // the instance takes the new key only when the test says so
    h.create(Ec2Harness.job("crash", GATED));
    await().atMost(Duration.ofSeconds(90)).until(() -> !h.fake.instances().isEmpty()
        && h.fake.instances().get(0).hostKeyWaitingOnDisk());
    FakeInstance instance = h.fake.instances().get(0);

    // the operator installed the key it recorded as pending first, and dies before the instance presents it
    Secret before = secret("crash");
    assertThat(before.getData()).containsKey(JobKeys.PENDING_HOST_PUBLIC);
    assertThat(same(publicKey(before, JobKeys.HOST_PUBLIC), instance.userDataHostKey())).isTrue();
    h.stopOperator();
    instance.resumeSshdReloads();
    assertThat(same(instance.hostKey(), publicKey(before, JobKeys.PENDING_HOST_PUBLIC))).as("sshd now presents the new key").isTrue();

    h.startOperator();

    await().atMost(Duration.ofSeconds(90)).until(() -> h.phase("crash") == Phase.Running);
    Secret after = secret("crash");
    assertThat(same(publicKey(after, JobKeys.HOST_PUBLIC), instance.hostKey())).isTrue();
    assertThat(after.getData()).doesNotContainKey(JobKeys.PENDING_HOST_PUBLIC);
    Files.writeString(instance.home().resolve(JobRef.of(h.get("crash")).directory()).resolve("job/go"), "");
    await().atMost(Duration.ofSeconds(90)).until(() -> h.phase("crash") == Phase.Succeeded);
  }

  private Secret secret(String job) {
    return h.client().secrets().inNamespace(Ec2Harness.NS).withName(job + "-ssh").get();
  }

  private static String text(Secret secret, String key) {
    return text(secret.getData().get(key));
  }

  private static String text(String base64) {
    return new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
  }

  private static PublicKey publicKey(Secret secret, String key) throws Exception {
    return SshKeys.publicKey(text(secret, key));
  }

  private static boolean same(PublicKey a, PublicKey b) {
    return KeyUtils.compareKeys(a, b);
  }
}
