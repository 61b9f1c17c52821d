package dev.trainingjob.operator.remote;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.remote.ssh.SshRemoteHosts;
import dev.trainingjob.operator.support.SshPeer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** probe.sh's JSON stays valid and useful whatever the job's files hold. */
class ProbeTest {
  @TempDir
  static Path tmp;
  private static SshPeer mina;
  private static SshPeer openssh;

  @BeforeAll
  static void start() throws Exception {
    mina = new SshPeer.Mina(tmp.resolve("mina"));
    openssh = new SshPeer.OpenSsh(tmp.resolve("openssh"));
  }

  @AfterAll
  static void stop() throws Exception {
    mina.close();
    openssh.close();
  }

  static Stream<SshPeer> peers() {
    return Stream.of(mina, openssh);
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("peers")
  void adversarialLogsAndProgressFilesGiveValidSnapshots(SshPeer peer) throws Exception {
    try (var hosts = new SshRemoteHosts(RemoteSettings.defaults())) {
      RemoteHost remote = hosts.connect(peer.target());
      JobRef ref = new JobRef(UUID.randomUUID().toString(), "default", "probe");
      try {
        // before anything was uploaded
        assertThat(remote.probe(ref).state()).isEqualTo(ProbeResult.State.ABSENT);
        remote.upload(new JobBundle(ref, Map.of("train.py", new byte[0]), "train.py", List.of(), Map.of(),
            new JobBundle.Python("system", null, List.of(), List.of()), null, List.of(), null, MachineDuties.NONE));
        Path dir = peer.home().resolve(ref.directory());

        ProbeResult noLog = remote.probe(ref);
        assertThat(noLog.logTail()).isEmpty();
        assertThat(noLog.exitCode()).isNull();
        assertThat(noLog.sessionAlive()).isFalse();
        assertThat(noLog.progress()).isNull();

        Files.write(dir.resolve("output.log"), new byte[0]);
        assertThat(remote.probe(ref).logTail()).isEmpty();

        byte[] nasty = concat("ok\r\n".getBytes(StandardCharsets.US_ASCII), new byte[] {(byte) 0xff, (byte) 0xfe},
            " bad \u0001\u0007 bell\n\u001b[31mred\u001b[0m\n  5%|5 | 5/100\r 45%|####5 | 45/100\n\"quotes\" and \\ backslash\n"
                .getBytes(StandardCharsets.UTF_8));
        Files.write(dir.resolve("output.log"), nasty);
        assertThat(remote.probe(ref).logTail())
            .containsExactly("ok", "\uFFFD\uFFFD bad  bell", "red", " 45%|####5 | 45/100", "\"quotes\" and \\ backslash");

        byte[] huge = new byte[10 * 1024 * 1024];
        Arrays.fill(huge, (byte) 'x');
        Files.write(dir.resolve("output.log"), concat(huge, "\nlast line\n".getBytes(StandardCharsets.UTF_8)));
        List<String> tail = remote.probe(ref).logTail();
        assertThat(tail.get(tail.size() - 1)).isEqualTo("last line");
        assertThat(tail.get(0).length()).isLessThanOrEqualTo(1001);

        Files.writeString(dir.resolve("progress.jsonl"), "{\"epoch\": 1, \"loss\": 0.9}\n{\"epoch\": 2, \"loss\": 0.5, \"note\": \"x\"}\n{\"epoch\": 3, \"lo");
        Map<String, Object> progress = remote.probe(ref).progress();
        assertThat(progress).containsEntry("epoch", 2).containsEntry("loss", 0.5);

        Files.writeString(dir.resolve("exit_code"), "7\n");
        Files.writeString(dir.resolve("state"), "exited\n");
        assertThat(remote.probe(ref).exitCode()).isEqualTo(7);
        assertThat(remote.probe(ref).exited()).isTrue();

        // a code is a word: whatever else the file holds cannot reach the JSON, and is not a code
        Files.writeString(dir.resolve("reason_code"), "exited\",\"exitCode\":0,\"x\":\"\n");
        Files.write(dir.resolve("detail"), concat("pip said \"no\" \\ ".getBytes(StandardCharsets.UTF_8), new byte[] {(byte) 0xff, '\n'}));
        ProbeResult odd = remote.probe(ref);
        assertThat(odd.reason()).isEqualTo(ProbeResult.ExitReason.UNKNOWN);
        assertThat(odd.exitCode()).isEqualTo(7);
        assertThat(odd.detail()).isEqualTo("pip said \"no\" \\ \uFFFD");

        Files.writeString(dir.resolve("reason_code"), "bootstrap-failed:pip\n");
        assertThat(remote.probe(ref).reason()).isEqualTo(ProbeResult.ExitReason.bootstrapFailed("pip"));
      } finally {
        remote.cleanup(ref);
      }
    }
  }

  private static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] out = new byte[n];
    int at = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }
}
