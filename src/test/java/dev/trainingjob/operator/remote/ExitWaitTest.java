package dev.trainingjob.operator.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.remote.ssh.SshRemoteHosts;
import dev.trainingjob.operator.support.Processes;
import dev.trainingjob.operator.support.SshPeer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The wait on the machine for a script's exit (RemoteHost.awaitExit): it lands the moment the driver records the exit,
 * with the probe's whole result; it ends on the machine when this side lets go; and it leaves the connection's channels
 * to the probes of every job sharing it (OpenSSH serves ten per connection).
 */
class ExitWaitTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final Duration LONG = Duration.ofMinutes(10);
  @TempDir
  static Path tmp;
  private static SshPeer mina;
  private static SshPeer openssh;
  private final List<Runnable> cleanups = new ArrayList<>();
  private SshRemoteHosts hosts = new SshRemoteHosts(RemoteSettings.defaults().with(r -> r.stopGrace = Duration.ofSeconds(1)));

  @BeforeAll
  static void startPeers() throws Exception {
    mina = new SshPeer.Mina(tmp.resolve("mina"));
    openssh = new SshPeer.OpenSsh(tmp.resolve("openssh"));
  }

  @AfterAll
  static void stopPeers() throws Exception {
    mina.close();
    openssh.close();
  }

  @AfterEach
  void cleanUp() {
    cleanups.forEach(Runnable::run);
    hosts.close();
  }

  static Stream<SshPeer> peers() {
    return Stream.of(mina, openssh);
  }

  /** A job whose script prints that it waits, then exits with 3 once the file "go" is there. */
  private RemoteHost running(SshPeer peer, JobRef ref) throws Exception {
    RemoteHost remote = hosts.connect(peer.target(), ref);
    cleanups.add(() -> {
      try {
        remote.stop(ref);
        remote.cleanup(ref);
      } catch (Exception ignored) {
        // best effort
      }
    });
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("train.py", """
        import os, sys, time
        print("waiting for the go file", flush=True)
        while not os.path.exists("go"):
            time.sleep(0.05)
        print("going")
        sys.exit(3)
        """.getBytes(StandardCharsets.UTF_8));
    remote.upload(new JobBundle(ref, files, "train.py", List.of(), Map.of(), new JobBundle.Python("system", null, List.of(), List.of()),
        null, List.of(), null, MachineDuties.NONE));
    remote.startOnce(ref);
    await().atMost(WAIT).until(() -> remote.probe(ref).logTail().contains("waiting for the go file"));
    return remote;
  }

  private static JobRef newJob() {
    return new JobRef(UUID.randomUUID().toString(), "default", "w-" + UUID.randomUUID().toString().substring(0, 6));
  }

  private static long waitsOnTheMachine(JobRef ref) {
    return Processes.withCommandLine("tj-await-change", ref.directory());
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("peers")
  void theWaitLandsWithTheExitAndTheWholeProbe(SshPeer peer) throws Exception {
    JobRef ref = newJob();
    RemoteHost remote = running(peer, ref);

    CompletableFuture<ProbeResult> exit = remote.awaitChange(ref, ProbeResult.State.RUNNING, LONG);
    await().atMost(WAIT).until(() -> waitsOnTheMachine(ref) == 1);
    assertThat(exit).isNotDone();
    assertThat(remote.probe(ref).state()).as("probes go on beside the wait").isEqualTo(ProbeResult.State.RUNNING);

    Files.writeString(peer.home().resolve(ref.directory()).resolve("job/go"), "");
    ProbeResult seen = await().atMost(WAIT).until(() -> exit.isDone() ? exit.get() : null, r -> r != null);
    assertThat(seen.exited()).isTrue();
    assertThat(seen.exitCode()).isEqualTo(3);
    assertThat(seen.logTail()).contains("going");
    assertThat(hosts.openWaits()).isZero();
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("peers")
  void aCancelledWaitEndsOnTheMachineAndSoDoesOneWhoseJobLetGo(SshPeer peer) throws Exception {
    JobRef ref = newJob();
    RemoteHost remote = running(peer, ref);

    CompletableFuture<ProbeResult> first = remote.awaitChange(ref, ProbeResult.State.RUNNING, LONG);
    await().atMost(WAIT).until(() -> waitsOnTheMachine(ref) == 1);
    first.cancel(true);
    await().atMost(WAIT).until(() -> waitsOnTheMachine(ref) == 0);
    assertThat(hosts.openWaits()).isZero();

    CompletableFuture<ProbeResult> second = remote.awaitChange(ref, ProbeResult.State.RUNNING, LONG);
    await().atMost(WAIT).until(() -> waitsOnTheMachine(ref) == 1);
    hosts.release(ref); // the job's connection closes
    await().atMost(WAIT).until(second::isDone);
    assertThat(second).isCompletedExceptionally();
    await().atMost(WAIT).until(() -> waitsOnTheMachine(ref) == 0);
    assertThat(hosts.openWaits()).isZero();
  }

  @Test
  void aWaitPastItsBoundEndsWithAPlainProbe() throws Exception {
    JobRef ref = newJob();
    RemoteHost remote = running(mina, ref);

    ProbeResult seen = remote.awaitChange(ref, ProbeResult.State.RUNNING, Duration.ofSeconds(1)).get();
    assertThat(seen.state()).isEqualTo(ProbeResult.State.RUNNING);
    assertThat(waitsOnTheMachine(ref)).isZero();
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("peers")
  void aConnectionLendsFewChannelsToWaitsAndTheProbesKeepTheirs(SshPeer peer) throws Exception {
    List<JobRef> jobs = new ArrayList<>();
    List<RemoteHost> remotes = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      JobRef ref = newJob();
      jobs.add(ref);
      remotes.add(running(peer, ref)); // one login for all: one connection
    }
    List<CompletableFuture<ProbeResult>> waits = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      waits.add(remotes.get(i).awaitChange(jobs.get(i), ProbeResult.State.RUNNING, LONG));
    }
    var fifth = waits.get(4);
    assertThat(fifth).as("refused at once: that job is probed at its interval").isCompletedExceptionally();
    assertThatCause(fifth).isInstanceOf(UnsupportedOperationException.class);
    await().atMost(WAIT).until(() -> jobs.stream().limit(4).allMatch(j -> waitsOnTheMachine(j) == 1));
    for (int i = 0; i < 5; i++) {
      assertThat(remotes.get(i).probe(jobs.get(i)).state()).isEqualTo(ProbeResult.State.RUNNING);
    }
    waits.forEach(w -> w.cancel(true));
    await().atMost(WAIT).until(() -> jobs.stream().allMatch(j -> waitsOnTheMachine(j) == 0));
  }

  private static org.assertj.core.api.AbstractThrowableAssert<?, ? extends Throwable> assertThatCause(CompletableFuture<?> f) {
    try {
      f.get();
      throw new AssertionError("not failed");
    } catch (ExecutionException e) {
      return assertThat(e.getCause());
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }
}
