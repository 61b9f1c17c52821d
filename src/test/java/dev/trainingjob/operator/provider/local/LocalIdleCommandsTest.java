package dev.trainingjob.operator.provider.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.remote.SshTarget;
import dev.trainingjob.operator.support.Jobs;
import dev.trainingjob.operator.support.ScriptedRemoteHosts;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local provider's machine runs in the operator's own process, so what its SSH server spends on a command that waits
 * (a job's exit-wait holds one open for a minute, per job) is the operator's CPU: 32 commands that wait cost next to
 * nothing, as they would on a real machine's sshd. (MINA's default looked at each command's output every millisecond:
 * a third of a core for these 32, more than a core for 150 running jobs.)
 */
class LocalIdleCommandsTest {
  @TempDir
  Path tmp;

  @Test
  void commandsThatWaitCostTheOperatorNextToNoCpu() throws Exception {
    TrainingJob job = Jobs.simple("idle");
    job.getMetadata().setUid(UUID.randomUUID().toString());
    try (LocalProvider local = new LocalProvider(tmp.resolve("work"), tmp.resolve("outputs"), new ScriptedRemoteHosts());
        SshClient client = SshClient.setUpDefaultClient()) {
      SshTarget target = local.access(job, null).target();
      client.setServerKeyVerifier((session, address, key) -> KeyUtils.compareKeys(key, target.hostKey()));
      client.start();
      try (ClientSession session = client.connect(target.user(), target.host(), target.port()).verify(Duration.ofSeconds(10))
          .getSession()) {
        session.addPublicKeyIdentity(target.key());
        session.auth().verify(Duration.ofSeconds(10));
        List<ChannelExec> waiting = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
          ChannelExec exec = session.createExecChannel("sleep 30");
          exec.open().verify(Duration.ofSeconds(10));
          waiting.add(exec);
        }
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        // every command has started (its process runs), and the JIT has had its say
        Awaitility.await().pollDelay(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> true);
        long cpu = os.getProcessCpuTime();
        long wall = System.nanoTime();
        Awaitility.await().pollDelay(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(6)).until(() -> true);
        double cores = (os.getProcessCpuTime() - cpu) / (double) (System.nanoTime() - wall);
        assertThat(waiting).allMatch(c -> !c.waitFor(List.of(ClientChannelEvent.CLOSED), 1).contains(ClientChannelEvent.CLOSED));
        assertThat(cores).as("share of a core the process spent while %d commands waited", waiting.size()).isLessThan(0.05);
        for (ChannelExec c : waiting) {
          c.close(true);
        }
      }
    }
  }
}
