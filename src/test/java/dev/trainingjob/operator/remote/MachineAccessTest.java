package dev.trainingjob.operator.remote;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.remote.MachineAccess.KeyHint;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
        "rm -f train.key && (umask 077 && kubectl -n ml get secret train-ssh -o jsonpath='{.data.ssh-privatekey}'"
            + " | base64 -d > train.key) && ssh -i train.key -p 22 ubuntu@203.0.113.7 -t screen -r tj-train-1");
  }

  /**
   * The key file is 0600 from the moment it exists, before kubectl has written a byte into it, whatever the person's
   * umask and whatever mode an earlier key file there had: run with a kubectl that records what it sees while it writes.
   */
  @Test
  void theKeyFileIsPrivateBeforeTheKeyIsWrittenIntoIt(@TempDir Path dir) throws Exception {
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Path kubectl = bin.resolve("kubectl");
    Files.writeString(kubectl, """
        #!/bin/sh
        # the other side of the pipe opens the file: wait for it (the pipe's two ends start together)
        n=0; while [ ! -e train.key ] && [ $n -lt 3000 ]; do sleep 0.01; n=$((n + 1)); done
        stat -c %a train.key > mode-while-writing
        printf '%s' "$(printf 'PRIVATE KEY TEXT' | base64)"
        """);
    Files.setPosixFilePermissions(kubectl, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path stale = Files.writeString(dir.resolve("train.key"), "an earlier job's key");
    Files.setPosixFilePermissions(stale, PosixFilePermissions.fromString("rw-r--r--"));

    String prepare = KeyHint.secret("ml", "train-ssh", "ssh-privatekey", "train.key").prepare();
    ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", "umask 022 && " + prepare).directory(dir.toFile())
        .redirectErrorStream(true);
    pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
    Process shell = pb.start();
    shell.getOutputStream().close();
    String output = new String(shell.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(shell.waitFor()).as(output).isZero();

    assertThat(Files.readString(dir.resolve("mode-while-writing")).strip()).isEqualTo("600");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("train.key")))).isEqualTo("rw-------");
    assertThat(Files.readString(dir.resolve("train.key"))).isEqualTo("PRIVATE KEY TEXT");
  }

  @Test
  void theAccessCarriesTheCommandForItsOwnTarget() {
    var target = new SshTarget("127.0.0.1", 40999, "tj-u", null, null, true);
    var access = MachineAccess.of(target, new JobRef("0b1c2d3e-aaaa-bbbb-cccc-0123456789ab", "default", "job"), KeyHint.own());
    assertThat(access.target()).isSameAs(target);
    assertThat(access.attachCommand()).isEqualTo("ssh -p 40999 tj-u@127.0.0.1 -t screen -r tj-job-456789ab");
  }
}
