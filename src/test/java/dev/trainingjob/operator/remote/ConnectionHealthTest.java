package dev.trainingjob.operator.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.remote.ssh.SshRemoteHosts;
import dev.trainingjob.operator.support.FreezingProxy;
import dev.trainingjob.operator.support.SshPeer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Machines that misbehave on the network hold up only themselves: one that accepts TCP and then says nothing (an EC2
 * instance that is "running" but has not booted), and a connection that goes silent mid-life (a machine that vanished,
 * a NAT that forgot the flow).
 */
class ConnectionHealthTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final JobRef NOBODY = new JobRef(UUID.randomUUID().toString(), "default", "nobody");
  @TempDir
  static Path tmp;
  private static SshPeer.Mina peer;

  @BeforeAll
  static void start() throws Exception {
    peer = new SshPeer.Mina(tmp.resolve("mina"));
  }

  @AfterAll
  static void stop() throws Exception {
    peer.close();
  }

  /** Accepts every connection and never writes a byte: not even SSH's version line. */
  private static final class SilentMachine implements AutoCloseable {
    final ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    final List<Socket> accepted = new CopyOnWriteArrayList<>();
    final CountDownLatch first = new CountDownLatch(1);

    SilentMachine() throws IOException {
      Thread t = new Thread(() -> {
        while (!listener.isClosed()) {
          try {
            accepted.add(listener.accept());
            first.countDown();
          } catch (IOException e) {
            return;
          }
        }
      }, "silent-machine");
      t.setDaemon(true);
      t.start();
    }

    SshTarget target() {
      SshTarget t = peer.target();
      return new SshTarget("127.0.0.1", listener.getLocalPort(), t.user(), t.key(), t.hostKey(), false);
    }

    @Override
    public void close() throws IOException {
      listener.close();
      for (Socket s : accepted) {
        s.close();
      }
    }
  }

  @Test
  void aMachineThatAcceptsButNeverAnswersHoldsUpNoOtherJobsConnectProbeOrRelease() throws Exception {
    var settings = RemoteSettings.defaults().with(r -> r.connectTimeout = Duration.ofSeconds(30));
    JobRef stuck = new JobRef(UUID.randomUUID().toString(), "default", "stuck");
    JobRef alsoStuck = new JobRef(UUID.randomUUID().toString(), "default", "also-stuck");
    JobRef other = new JobRef(UUID.randomUUID().toString(), "default", "other");
    try (var silent = new SilentMachine(); var hosts = new SshRemoteHosts(settings)) {
      var connecting = CompletableFuture.supplyAsync(() -> connect(hosts, silent.target(), stuck));
      assertThat(silent.first.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
      // a second job for the same machine waits on that connect instead of opening another
      var second = CompletableFuture.supplyAsync(() -> connect(hosts, silent.target(), alsoStuck));

      RemoteHost elsewhere = hosts.connect(peer.target(), other);
      assertThat(elsewhere.probe(NOBODY).state()).isEqualTo(ProbeResult.State.ABSENT);
      hosts.release(other); // walks every kept connection, the one being made too
      hosts.release(stuck);

      assertThat(connecting).as("the silent machine's connect is still waiting").isNotDone();
      assertThat(second).isNotDone();
      assertThat(silent.accepted).as("one connection to the silent machine, shared").hasSize(1);
    }
  }

  @Test
  void aConnectToAMachineThatNeverAnswersEndsAtTheConnectTimeout() throws Exception {
    var settings = RemoteSettings.defaults().with(r -> r.connectTimeout = Duration.ofSeconds(1));
    try (var silent = new SilentMachine(); var hosts = new SshRemoteHosts(settings)) {
      assertThatThrownBy(() -> hosts.connect(silent.target(), NOBODY)).isInstanceOf(HostUnreachableException.class);
      assertThatThrownBy(() -> hosts.connect(silent.target(), NOBODY)).as("and again: nothing is left waiting")
          .isInstanceOf(HostUnreachableException.class);
    }
  }

  @Test
  void aConnectionThatHangsIsReplacedAfterOneTimedOutCommandNotWaitedOnByEveryOne() throws Exception {
    var settings = RemoteSettings.defaults().with(r -> {
      r.commandTimeout = Duration.ofSeconds(2);
      r.connectTimeout = Duration.ofSeconds(2);
    });
    try (var proxy = new FreezingProxy(peer.target().host(), peer.target().port()); var hosts = new SshRemoteHosts(settings)) {
      SshTarget t = peer.target();
      RemoteHost remote = hosts.connect(new SshTarget("127.0.0.1", proxy.port(), t.user(), t.key(), t.hostKey(), false), NOBODY);
      assertThat(remote.probe(NOBODY).state()).isEqualTo(ProbeResult.State.ABSENT);

      proxy.freeze();

      // the probe that meets the hung connection times out (or, retried on a new one, answers); the next one answers
      try {
        remote.probe(NOBODY);
      } catch (IOException timedOut) {
        assertThat(timedOut).hasMessageContaining("timed out");
      }
      assertThat(proxy.closedByClient()).as("the hung connection was let go").isEqualTo(1);
      assertThat(remote.probe(NOBODY).state()).as("on a new connection").isEqualTo(ProbeResult.State.ABSENT);
    }
  }

  @Test
  void aConnectionThatGoesSilentIsClosedByItsKeepAlivesWithoutACommandOnIt() throws Exception {
    var settings = RemoteSettings.defaults().with(r -> r.keepAlive = Duration.ofMillis(300));
    try (var proxy = new FreezingProxy(peer.target().host(), peer.target().port()); var hosts = new SshRemoteHosts(settings)) {
      SshTarget t = peer.target();
      RemoteHost remote = hosts.connect(new SshTarget("127.0.0.1", proxy.port(), t.user(), t.key(), t.hostKey(), false), NOBODY);
      assertThat(remote.probe(NOBODY).state()).isEqualTo(ProbeResult.State.ABSENT);

      proxy.freeze();

      await().atMost(WAIT).until(() -> proxy.closedByClient() == 1);
      assertThat(remote.probe(NOBODY).state()).as("the next use connects again").isEqualTo(ProbeResult.State.ABSENT);
    }
  }

  private static RemoteHost connect(SshRemoteHosts hosts, SshTarget target, JobRef job) {
    try {
      return hosts.connect(target, job);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
