package dev.trainingjob.operator.provider.ec2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.trainingjob.operator.api.LimitsSpec;
import dev.trainingjob.operator.remote.ssh.SshKeys;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.junit.jupiter.api.Test;

/** The user data a launch carries: what cloud-init reads in it, and that EC2 takes it. */
class CloudInitTest {
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  @Test
  void aRealisticJobsUserDataStaysWellUnderEc2sLimit() throws Exception {
    // a user of its own (the longer form), real keys, the default guard
    String userData = CloudInit.userData(keys(), "trainer", "ubuntu", MachineGuard.of(Ec2Settings.builder().build()));
    int bytes = userData.getBytes(StandardCharsets.UTF_8).length;
    assertThat(bytes).as("half of EC2's 16 KB, so what comes next has room").isLessThan(CloudInit.EC2_LIMIT_BYTES / 2);
  }

  @Test
  void bootcmdArmsTheGuardOnEveryBootWithTheOperatorsSettings() throws Exception {
    String userData = CloudInit.userData(keys(), "ubuntu", "ubuntu", MachineGuard.of(Ec2Settings.builder().build()));
    assertThat(userData).startsWith("#cloud-config\n");
    JsonNode doc = YAML.readTree(userData);

    assertThat(doc.path("ssh_keys").path("ed25519_private").asText()).contains("PRIVATE KEY");
    List<String> entry = words(doc.path("bootcmd").path(0));
    assertThat(entry).hasSize(7);
    assertThat(entry.subList(0, 2)).containsExactly("sh", "-c");
    assertThat(entry.subList(3, 7)).containsExactly("trainingjob-guard", "1800", "60", "shutdown -h now");
    // the wrapper writes guard.sh as it is in the jar, unexpanded, then arms it
    String wrapper = entry.get(2);
    assertThat(wrapper).startsWith("d=${TRAININGJOB_GUARD_ROOT:-}/var/lib/trainingjob-guard\n")
        .contains("<<'GUARD' && exec sh \"$d/guard.sh\" arm \"$@\"\n" + guardScript() + "GUARD\n");
  }

  @Test
  void aPowerOffCommandComesThroughYamlExactlyWhateverItHolds() throws Exception {
    String command = "printf '%s\\n' \"it's \\\"off\\\"\" \\\\ # not a comment: {x: [y]}\n\tlogger -t guard \"$1\"";
    String userData = CloudInit.userData(keys(), "ubuntu", "ubuntu", new MachineGuard(Duration.ofSeconds(5), command));
    List<String> entry = words(YAML.readTree(userData).path("bootcmd").path(0));
    assertThat(entry.get(6)).isEqualTo(command);
    assertThat(entry.subList(4, 6)).as("5s: checked every second").containsExactly("5", "1");
  }

  @Test
  void aCommandTooLongForEc2IsRefusedBeforeALaunch() {
    var guard = new MachineGuard(Duration.ofMinutes(30), "true # " + "x".repeat(CloudInit.EC2_LIMIT_BYTES));
    assertThatThrownBy(() -> CloudInit.userData(keys(), "ubuntu", "ubuntu", guard))
        .hasMessageContaining("over EC2's limit").hasMessageContaining("--ec2-shutdown-command");
  }

  @Test
  void theGuardLooksEveryThirtiethOfTheTimeoutBetweenASecondAndAMinute() {
    assertThat(MachineGuard.interval(Duration.ofMinutes(30))).hasSeconds(60);
    assertThat(MachineGuard.interval(Duration.ofHours(4))).hasSeconds(60);
    assertThat(MachineGuard.interval(Duration.ofMinutes(10))).hasSeconds(20);
    assertThat(MachineGuard.interval(Duration.ofSeconds(5))).hasSeconds(1);
  }

  @Test
  void theCeilingIsMaxRuntimePlusGraceAndThereIsNoneWithoutMaxRuntime() {
    LimitsSpec limits = new LimitsSpec();
    assertThat(MachineGuard.ceilingSeconds(null, Duration.ofMinutes(15))).isNull();
    assertThat(MachineGuard.ceilingSeconds(limits, Duration.ofMinutes(15))).isNull();
    limits.maxRuntimeSeconds = 3600L;
    assertThat(MachineGuard.ceilingSeconds(limits, Duration.ofMinutes(15))).isEqualTo(4500L);
  }

  @Test
  void aHeartbeatTimeoutUnderASecondIsRefused() {
    var settings = Ec2Settings.builder();
    settings.heartbeatTimeout = Duration.ofMillis(500);
    assertThatThrownBy(settings::build).hasMessageContaining("heartbeat timeout must be at least 1s");
  }

  private static JobKeys.Keys keys() throws Exception {
    KeyPair login = KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256);
    KeyPair host = KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256);
    return new JobKeys.Keys("job-ssh", login, host, SshKeys.privateText(host, "host"));
  }

  private static List<String> words(JsonNode list) {
    List<String> words = new ArrayList<>();
    list.forEach(w -> words.add(w.asText()));
    return words;
  }

  private static String guardScript() throws Exception {
    try (InputStream in = CloudInitTest.class.getResourceAsStream("/ec2/guard.sh")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
