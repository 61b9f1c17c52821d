package dev.trainingjob.operator.remote;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.remote.MachineAccess.KeyHint;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The one builder of the command that attaches a terminal to a job's screen session. */
class MachineAccessTest {
  @Test
  void withTheirOwnKeyItIsPlainSsh() {
    assertThat(MachineAccess.attachCommand("trainer", "10.0.0.5", 2222, "tj-train-1a2b3c4d", KeyHint.own()))
        .isEqualTo("ssh -p 2222 trainer@10.0.0.5 -t screen -r tj-train-1a2b3c4d");
  }

  @Test
  void withFilesItOffersOnlyThatKeyAndTrustsOnlyThatHostKey() {
    var hint = KeyHint.files(Path.of("/work/id_operator"), Path.of("/work/known_hosts"));
    assertThat(MachineAccess.attachCommand("tj-uid", "127.0.0.1", 40123, "tj-x-1", hint)).isEqualTo(
        "ssh -i /work/id_operator -o IdentitiesOnly=yes -o UserKnownHostsFile=/work/known_hosts -o StrictHostKeyChecking=yes"
            + " -p 40123 tj-uid@127.0.0.1 -t screen -r tj-x-1");
    // the same command, one argument each, for a program that runs it without a shell
    assertThat(MachineAccess.attachArgv("tj-uid", "127.0.0.1", 40123, "tj-x-1", hint)).containsExactly(
        "ssh", "-i", "/work/id_operator", "-o", "IdentitiesOnly=yes", "-o", "UserKnownHostsFile=/work/known_hosts",
        "-o", "StrictHostKeyChecking=yes", "-p", "40123", "tj-uid@127.0.0.1", "-t", "screen", "-r", "tj-x-1");
  }

  @Test
  void pathsAShellWouldSplitAreQuoted() {
    var hint = KeyHint.files(Path.of("/home/me/my work/id_operator"), Path.of("/home/me/it's/known_hosts"));
    assertThat(MachineAccess.attachCommand("u", "127.0.0.1", 22, "s", hint))
        .startsWith("ssh -i '/home/me/my work/id_operator' -o IdentitiesOnly=yes -o 'UserKnownHostsFile=/home/me/it'\\''s/known_hosts'");
  }

  @Test
  void fromASecretTheKeyIsFetchedWithKubectlFirst() {
    var hint = KeyHint.secret("ml", "train-ssh", "ssh-privatekey", "train.key");
    assertThat(MachineAccess.attachCommand("ubuntu", "203.0.113.7", 22, "tj-train-1", hint)).isEqualTo(
        "kubectl -n ml get secret train-ssh -o jsonpath='{.data.ssh-privatekey}' | base64 -d > train.key && chmod 600 train.key"
            + " && ssh -i train.key -p 22 ubuntu@203.0.113.7 -t screen -r tj-train-1");
  }

  @Test
  void theAccessCarriesTheCommandForItsOwnTarget() {
    var target = new SshTarget("127.0.0.1", 40999, "tj-u", null, null, true);
    var access = MachineAccess.of(target, new JobRef("0b1c2d3e-aaaa-bbbb-cccc-0123456789ab", "default", "job"), KeyHint.own());
    assertThat(access.target()).isSameAs(target);
    assertThat(access.attachCommand()).isEqualTo("ssh -p 40999 tj-u@127.0.0.1 -t screen -r tj-job-456789ab");
  }
}
