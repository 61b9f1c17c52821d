package dev.trainingjob.operator.remote.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * replace-host-key.sh on its own, with the real ssh-keygen, in a folder that plays /etc/ssh (its test hook): the
 * key is made on the machine and staged once, installed only when the operator names it, and a key the machine
 * does not have is refused with the status that makes the operator stage again.
 */
class ReplaceHostKeyScriptTest {
  @TempDir
  Path root;
  Path script;

  record Run(int status, String out, String err) {}

  @BeforeEach
  void copyScript() throws Exception {
    script = root.resolve("replace-host-key.sh");
    try (InputStream in = getClass().getResourceAsStream("/remote/replace-host-key.sh")) {
      Files.write(script, in.readAllBytes());
    }
  }

  @Test
  void aKeyIsMadeHereStagedOnceAndServedOnlyOnceInstalled() throws Exception {
    Path key = root.resolve("etc/ssh/ssh_host_ed25519_key");
    Files.createDirectories(key.getParent());
    Files.writeString(key, "the boot key\n");

    Run first = run("stage");
    assertThat(first.status()).as(first.err()).isZero();
    assertThat(first.out().strip()).startsWith("ssh-ed25519 AAAA").doesNotContain("PRIVATE");
    assertThat(run("stage").out()).as("asked again: the same key").isEqualTo(first.out());
    assertThat(Files.readString(key)).as("nothing served before install").isEqualTo("the boot key\n");

    Run other = run("install", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHKDk1R8P3YFyGOTIq1HtBfZ9pZ6PSVr6yH3mYs5p6AA");
    assertThat(other.status()).isEqualTo(4);
    assertThat(other.err()).contains("neither staged nor in place");

    Run install = run("install", first.out().strip());
    assertThat(install.status()).as(install.err()).isZero();
    assertThat(Files.readString(key)).contains("BEGIN OPENSSH PRIVATE KEY");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
    assertThat(Files.readString(root.resolve("etc/ssh/ssh_host_ed25519_key.pub")).strip()).startsWith(first.out().strip());
    assertThat(run("install", first.out().strip()).status()).as("installed again: idempotent").isZero();

    Run next = run("stage");
    assertThat(next.out()).as("a new stage after an install is a new key").isNotEqualTo(first.out());
    assertThat(run("install", "ecdsa-sha2-nistp256 AAAA").status()).isEqualTo(2);
  }

  private Run run(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("/bin/sh", script.toString()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(root.resolve("out").toFile())
        .redirectError(root.resolve("err").toFile());
    pb.environment().put("TRAININGJOB_SSHD_ROOT", root.toString());
    Process p = pb.start();
    p.getOutputStream().close();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Run(p.exitValue(), Files.readString(root.resolve("out"), StandardCharsets.UTF_8),
        Files.readString(root.resolve("err"), StandardCharsets.UTF_8));
  }
}
