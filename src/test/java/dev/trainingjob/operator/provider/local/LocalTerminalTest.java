package dev.trainingjob.operator.provider.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.remote.ssh.SshKeys;
import dev.trainingjob.operator.support.SshPeer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A login to the local provider's SSH server that asks for a terminal (OpenSSH's ssh -t, as attach does) gets one of its own,
 * with the same environment built from nothing as any command, the command's words and exit status intact; one that does
 * not ask gets none.
 */
class LocalTerminalTest {
  @TempDir
  Path tmp;

  private record Answer(int code, String out) {}

  private Answer ssh(SshPeer.Mina peer, String terminalFlag, String command) throws Exception {
    Path key = tmp.resolve("key");
    if (!Files.exists(key)) {
      SshKeys.writePrivateKeyFile(key, peer.clientKey, "test");
      Files.writeString(tmp.resolve("known_hosts"),
          SshKeys.knownHostsLine(peer.server.host(), peer.server.port(), peer.server.hostKey()) + "\n");
    }
    List<String> argv = new ArrayList<>(List.of("ssh", "-i", key.toString(), "-o", "IdentitiesOnly=yes", "-o",
        "UserKnownHostsFile=" + tmp.resolve("known_hosts"), "-o", "StrictHostKeyChecking=yes", "-o", "LogLevel=ERROR",
        "-p", String.valueOf(peer.server.port())));
    if (terminalFlag != null) {
      argv.add(terminalFlag);
    }
    argv.addAll(List.of("trainer@" + peer.server.host(), command));
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Answer(p.exitValue(), out.replace("\r", ""));
  }

  private static final String COMMAND = "printf 'tty=%s\\n' \"$(tty)\"; printf '<%s>\\n' 'it'\"'\"'s \"quoted\"';"
      + " printf 'env=%s\\n' \"$(env | cut -d= -f1 | sort | tr '\\n' ' ')\"; exit 3";

  @Test
  void aLoginAskingForATerminalGetsOneWithTheSameBareEnvironment() throws Exception {
    try (var peer = new SshPeer.Mina(tmp.resolve("root"))) {
      Answer answer = ssh(peer, "-tt", COMMAND);
      assertThat(answer.code()).as(answer.out()).isEqualTo(3);
      assertThat(answer.out()).contains("tty=/dev/pts/").contains("<it's \"quoted\">");
      String names = answer.out().lines().filter(l -> l.startsWith("env=")).findFirst().orElseThrow().substring(4);
      // what a login's environment holds, besides the shell's own bookkeeping: nothing of the operator's, nothing passed in
      assertThat(Arrays.asList(names.trim().split(" "))).as(names)
          .allMatch(n -> List.of("HOME", "PATH", "LANG", "TERM", "SHELL", "PWD", "OLDPWD", "SHLVL", "_").contains(n));

      Answer plain = ssh(peer, null, COMMAND);
      assertThat(plain.code()).isEqualTo(3);
      assertThat(plain.out()).contains("tty=not a tty").contains("<it's \"quoted\">");
    }
  }
}
