package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.status.Conditions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.remote.RemoteSettings;
import dev.trainingjob.operator.remote.ssh.SshRemoteHosts;
import dev.trainingjob.operator.support.Jobs;
import dev.trainingjob.operator.support.OperatorHarness;
import dev.trainingjob.operator.support.RecordingProvider;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A machine whose sshd never answers: status says what the operator waits for, until a deadline. */
class SshWaitTest {
  @Test
  void waitingForSshIsShownInStatusAndEndsInFailedAtTheDeadline() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    RecordingProvider provider = new RecordingProvider("local");
    provider.looksBeforeRunning = 1;
    provider.sshPort = closedPort;
    OperatorConfig config = OperatorConfig.defaults().with(c -> {
      c.pollInterval = c.probeInterval = Duration.ofMillis(300);
      c.sshReadyTimeout = Duration.ofSeconds(4);
      c.metricsPort = -1;
      c.defaultProvider = "local";
    });
    try (var harness = new OperatorHarness(config, List.of(provider), new SshRemoteHosts(RemoteSettings.defaults()))) {
      harness.create(Jobs.simple("late"));

      await().atMost(Duration.ofSeconds(30)).until(() -> {
        TrainingJob j = harness.get("late");
        return j.getStatus() != null && j.getStatus().message != null && j.getStatus().message.startsWith("Waiting for SSH at 127.0.0.1:" + closedPort);
      });
      assertThat(harness.get("late").getStatus().phase).isEqualTo(Phase.Bootstrapping);

      await().atMost(Duration.ofSeconds(30)).until(() -> harness.get("late").getStatus().phase == Phase.Failed);
      var failed = Conditions.find(harness.get("late").getStatus(), ConditionType.FAILED);
      assertThat(failed.reason).isEqualTo("SshUnreachable");
      assertThat(failed.message).contains("did not answer within 4s");
    }
  }
}
