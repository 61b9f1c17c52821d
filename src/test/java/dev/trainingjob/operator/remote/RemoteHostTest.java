package dev.trainingjob.operator.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.remote.ssh.SshRemoteHosts;
import dev.trainingjob.operator.support.Connections;
import dev.trainingjob.operator.support.SshPeer;
import dev.trainingjob.operator.support.Wheels;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The remote protocol against real peers on loopback: the in-process MINA SSHD server and a real
 * OpenSSH sshd, with real GNU screen and bash.
 */
class RemoteHostTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  @TempDir
  static Path tmp;
  private static SshPeer mina;
  private static SshPeer openssh;
  private final List<Runnable> cleanups = new ArrayList<>();
  private final RemoteSettings settings = RemoteSettings.defaults().with(r -> r.stopGrace = Duration.ofSeconds(3));
  private SshRemoteHosts hosts = new SshRemoteHosts(settings);

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

  /**
   * For what the driver does on the machine (bootstrap, environment, the hold's shell), the same bash and screen whichever
   * server let the operator in: one peer, the in-process one. What goes over the wire (start, probe, stop, collect, host
   * keys, dropped connections) runs against both.
   */
  static Stream<SshPeer> onePeer() {
    return Stream.of(mina);
  }

  // ---- helpers

  private JobRef newJob(SshPeer peer) {
    JobRef ref = new JobRef(UUID.randomUUID().toString(), "default", "job-" + UUID.randomUUID().toString().substring(0, 6));
    cleanups.add(() -> {
      try (var h = new SshRemoteHosts(settings)) {
        RemoteHost r = h.connect(peer.target());
        r.stop(ref);
        r.cleanup(ref);
      } catch (Exception ignored) {
        // best effort
      }
    });
    return ref;
  }

  /** The script's exit, with what the driver and the script said when it is not 0. */
  private void assertExitedZero(SshPeer peer, RemoteHost remote, JobRef ref) {
    ProbeResult end = awaitExit(remote, ref);
    assertThat(end.exitCode()).as(() -> end.reason() + " " + end.detail() + " " + end.logTail() + " " + driverLog(peer, ref))
        .isZero();
  }

  private static String driverLog(SshPeer peer, JobRef ref) {
    try {
      return Files.readString(jobDir(peer, ref).resolve("driver.log"));
    } catch (Exception e) {
      return "(no driver.log: " + e + ")";
    }
  }

  private static JobBundle bundle(JobRef ref, String script, List<String> args, Map<String, String> env,
      JobBundle.Python python) {
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("train.py", script.getBytes(StandardCharsets.UTF_8));
    return new JobBundle(ref, files, "train.py", args, env, python, null, List.of(), null, MachineDuties.NONE);
  }

  private static JobBundle bundle(JobRef ref, String script) {
    return bundle(ref, script, List.of(), Map.of(), system());
  }

  private static JobBundle.Python system() {
    return new JobBundle.Python("system", null, List.of(), List.of());
  }

  private ProbeResult awaitExit(RemoteHost remote, JobRef ref) {
    await().atMost(WAIT).pollInterval(Duration.ofMillis(200)).until(() -> remote.probe(ref).exited());
    await().atMost(WAIT).until(() -> !remote.probe(ref).sessionAlive());
    return Stream.of(1).map(i -> {
      try {
        return remote.probe(ref);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }).findFirst().orElseThrow();
  }

  private static Path jobDir(SshPeer peer, JobRef ref) throws Exception {
    return peer.home().resolve(ref.directory());
  }

  // ---- tests

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("peers")
  void theScriptRunsDetachedSurvivesTheConnectionClosingAndReportsItsOutputAndExitCode(SshPeer peer) throws Exception {
    JobRef ref = newJob(peer);
    RemoteHost remote = hosts.connect(peer.target());
    remote.upload(bundle(ref, """
        import os, time
        print("waiting for the go file", flush=True)
        while not os.path.exists("go"):
            time.sleep(0.05)
        print("done: all epochs")
        """));
    assertThat(remote.startOnce(ref)).isTrue();
    await().atMost(WAIT).until(() -> remote.probe(ref).logTail().contains("waiting for the go file"));

    hosts.close(); // the operator goes away: every connection closes
    hosts = new SshRemoteHosts(settings);
    RemoteHost again = hosts.connect(peer.target());
    ProbeResult meanwhile = again.probe(ref);
    assertThat(meanwhile.state()).isEqualTo(ProbeResult.State.RUNNING);
    assertThat(meanwhile.sessionAlive()).isTrue();

    Files.writeString(jobDir(peer, ref).resolve("job/go"), "");
    ProbeResult end = awaitExit(again, ref);
    assertThat(end.exitCode()).isZero();
    assertThat(end.logTail()).contains("done: all epochs");
    assertThat(end.reason()).isEqualTo(ProbeResult.ExitReason.EXITED);
    assertThat(end.detail()).isEqualTo("the script exited with code 0");
    assertThat(end.disk().totalBytes()).isPositive();
  }

  /**
   * An upload into a directory it makes writes each file in place (no one reads there yet, and no one else may enter: the
   * directory is the login user's alone); an upload into a directory that is there (one cut short before the start)
   * replaces each file whole. Either way the job's files are the login user's alone.
   */
  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("peers")
  void anUploadLeavesTheFilesToTheLoginUserAloneAndASecondOneBeforeTheStartReplacesThem(SshPeer peer) throws Exception {
    JobRef ref = newJob(peer);
    RemoteHost remote = hosts.connect(peer.target());
    remote.upload(bundle(ref, "print('first')\n"));
    Path dir = jobDir(peer, ref);
    java.util.function.Function<Path, String> mode = p -> {
      try {
        return java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    };
    assertThat(mode.apply(dir)).isEqualTo("rwx------");
    assertThat(mode.apply(dir.resolve("config"))).isEqualTo("rwx------");
    assertThat(mode.apply(dir.resolve("config/git_token"))).isEqualTo("rw-------");
    assertThat(mode.apply(dir.resolve("job/train.py"))).isEqualTo("rw-------");
    assertThat(mode.apply(dir.resolve("driver.sh"))).isEqualTo("rwx------");

    remote.upload(bundle(ref, "print('second')\n"));
    assertThat(dir.resolve("job/train.py")).content().isEqualTo("print('second')\n");
    assertThat(mode.apply(dir.resolve("job/train.py"))).isEqualTo("rw-------");
    try (var files = Files.list(dir.resolve("job"))) {
      assertThat(files.map(p -> p.getFileName().toString())).as("nothing left beside the files").containsExactly("train.py");
    }
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("peers")
  void aSecondStartNeverRunsTheScriptTwice(SshPeer peer) throws Exception {
    JobRef ref = newJob(peer);
    RemoteHost remote = hosts.connect(peer.target());
    remote.upload(bundle(ref, "open('runs.txt', 'a').write('ran\\n')\n"));
    assertThat(remote.startOnce(ref)).isTrue();
    assertThat(remote.startOnce(ref)).isFalse();
    try (var other = new SshRemoteHosts(settings)) { // another operator process
      RemoteHost second = other.connect(peer.target());
      second.upload(bundle(ref, "open('runs.txt', 'a').write('ran\\n')\n"));
      assertThat(second.startOnce(ref)).isFalse();
    }
    awaitExit(remote, ref);
    assertThat(remote.startOnce(ref)).isFalse();
    assertThat(Files.readAllLines(jobDir(peer, ref).resolve("job/runs.txt"))).containsExactly("ran");
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("onePeer")
  void aFailingScriptEndsWithItsExitCodeAndTheExceptionInTheLog(SshPeer peer) throws Exception {
    JobRef ref = newJob(peer);
    RemoteHost remote = hosts.connect(peer.target());
    remote.upload(bundle(ref, "raise ValueError('boom: bad learning rate')\n"));
    remote.startOnce(ref);
    ProbeResult end = awaitExit(remote, ref);
    assertThat(end.exitCode()).isEqualTo(1);
    assertThat(end.logTail()).anyMatch(l -> l.equals("ValueError: boom: bad learning rate"));
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("onePeer")
  void aFailingBootstrapEndsWithAnExitCodeAndItsOwnReason(SshPeer peer) throws Exception {
    JobRef ref = newJob(peer);
    RemoteHost remote = hosts.connect(peer.target());
    remote.upload(bundle(ref, "print('never')\n", List.of(), Map.of(),
        new JobBundle.Python("venv", null, List.of(tmp.resolve("no-such-package-1.0-py3-none-any.whl").toString()), List.of())));
    remote.startOnce(ref);
    ProbeResult end = awaitExit(remote, ref);
    assertThat(end.exitCode()).isNotZero();
    assertThat(end.reason()).isEqualTo(ProbeResult.ExitReason.bootstrapFailed("pip"));
    assertThat(end.detail()).isEqualTo("installing requirements with pip (venv)");
    assertThat(end.logTail()).noneMatch(l -> l.contains("never"));
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("onePeer")
  void venvInstallsARequirementFromALocalWheelOnceAndSkipsItOnTheNextRun(SshPeer peer) throws Exception {
    Path wheel = Wheels.build(tmp.resolve("wheels-" + UUID.randomUUID()), "tjdemo", "1.0", "VALUE = 42\n");
    JobRef ref = newJob(peer);
    RemoteHost remote = hosts.connect(peer.target());
    String script = "import sys, tjdemo\nprint('value', tjdemo.VALUE, 'from', sys.prefix)\n";
    remote.upload(bundle(ref, script, List.of(), Map.of(), new JobBundle.Python("venv", null, List.of(wheel.toString()), List.of())));
    remote.startOnce(ref);
    ProbeResult first = awaitExit(remote, ref);
    assertThat(first.exitCode()).isZero();
    assertThat(first.logTail()).anyMatch(l -> l.startsWith("value 42 from ") && l.endsWith("/venv"));
    assertThat(first.logTail()).anyMatch(l -> l.contains("creating a virtual environment"));

    // the driver runs again (the machine restarted it): the finished bootstrap is not repeated
    Path dir = jobDir(peer, ref);
    for (String f : List.of("exit_code", "state", "reason_code", "detail", "output.log")) {
      Files.deleteIfExists(dir.resolve(f));
    }
    Files.delete(dir.resolve("started"));
    Files.delete(Path.of(wheel.toString())); // pip could not install it a second time
    remote.startOnce(ref);
    ProbeResult second = awaitExit(remote, ref);
    assertThat(second.exitCode()).as(() -> second.reason() + " " + second.detail() + " " + second.logTail() + " "
        + driverLog(peer, ref)).isZero();
    assertThat(second.logTail()).anyMatch(l -> l.startsWith("value 42"));
    assertThat(second.logTail()).noneMatch(l -> l.contains("creating a virtual environment") || l.contains("installing requirements"));
  }

  /**
   * The user's env reaches the script only: names the driver itself uses (which interpreter, which file, which
   * directory) and a PATH without bash change nothing but what the script sees. Once the driver read them in its
   * own shell, and PY=/bin/echo made a job "succeed" without running its script.
   */
  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("onePeer")
  void namesTheDriverUsesInTheEnvReachOnlyTheScript(SshPeer peer) throws Exception {
    JobRef ref = newJob(peer);
    Map<String, String> env = new java.util.LinkedHashMap<>();
    env.put("PY", "/bin/echo");
    env.put("DIR", "/nonexistent");
    env.put("ENTRY", "other.py");
    env.put("CFG", "/nonexistent");
    env.put("PATH", "/nonexistent");
    env.put("IFS", "x");
    env.put("BASH_ENV", "/nonexistent/rc");
    RemoteHost remote = hosts.connect(peer.target());
    remote.upload(bundle(ref, """
        import json, os, sys
        json.dump({"file": os.path.basename(__file__), "cwd": os.getcwd(), "argv": sys.argv[1:],
                   "progress": os.environ["TRAININGJOB_PROGRESS_FILE"],
                   "env": {k: os.environ.get(k) for k in ["PY", "DIR", "ENTRY", "CFG", "PATH", "IFS", "BASH_ENV"]}},
                  open("seen.json", "w"))
        """, List.of("--epochs", "3"), env, system()));
    remote.startOnce(ref);
    assertExitedZero(peer, remote, ref);

    var seen = new com.fasterxml.jackson.databind.ObjectMapper().readTree(jobDir(peer, ref).resolve("job/seen.json").toFile());
    assertThat(seen.get("file").asText()).isEqualTo("train.py");
    assertThat(Path.of(seen.get("cwd").asText()).toRealPath()).isEqualTo(jobDir(peer, ref).resolve("job").toRealPath());
    assertThat(seen.get("argv").toString()).isEqualTo("[\"--epochs\",\"3\"]");
    env.forEach((name, value) -> assertThat(seen.get("env").get(name).asText()).as(name).isEqualTo(value));
    assertThat(seen.get("progress").asText()).endsWith(ref.directory() + "/progress.jsonl");
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("peers")
  void argumentsAndEnvironmentArriveExactlyAsWrittenAndNothingElseRuns(SshPeer peer) throws Exception {
    JobRef ref = newJob(peer);
    Path pwned = peer.home().resolve("pwned-" + ref.uid());
    List<String> args = List.of("$(touch " + pwned + ")", "; rm -rf ~", "it's \"quoted\"", "", "two\nlines", "*", "`id`", "-x");
    Map<String, String> env = Map.of("TRICKY", "$(touch " + pwned + ") ; echo $HOME", "EMPTY", "");
    RemoteHost remote = hosts.connect(peer.target());
    remote.upload(bundle(ref, """
        import json, os, sys
        json.dump({"argv": sys.argv[1:], "tricky": os.environ["TRICKY"], "empty": os.environ["EMPTY"],
                   "progress": os.environ["TRAININGJOB_PROGRESS_FILE"], "unbuffered": os.environ["PYTHONUNBUFFERED"]},
                  open("seen.json", "w"))
        """, args, env, system()));
    remote.startOnce(ref);
    ProbeResult end = awaitExit(remote, ref);
    assertThat(end.exitCode()).as(() -> end.reason() + " " + end.detail() + " " + end.logTail() + " " + driverLog(peer, ref)).isZero();

    var seen = new com.fasterxml.jackson.databind.ObjectMapper().readTree(jobDir(peer, ref).resolve("job/seen.json").toFile());
    List<String> argv = new ArrayList<>();
    seen.get("argv").forEach(n -> argv.add(n.asText()));
    assertThat(argv).containsExactlyElementsOf(args);
    assertThat(seen.get("tricky").asText()).isEqualTo(env.get("TRICKY"));
    assertThat(seen.get("empty").asText()).isEmpty();
    assertThat(seen.get("progress").asText()).endsWith(ref.directory() + "/progress.jsonl");
    assertThat(seen.get("unbuffered").asText()).isEqualTo("1");
    assertThat(pwned).doesNotExist();
    assertThat(peer.home()).exists();
    // the environment file is readable by the user alone
    var perms = Files.getPosixFilePermissions(jobDir(peer, ref).resolve("config/env"));
    assertThat(perms).containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
        java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("peers")
  void aHostKeyMismatchIsRefusedInPlainWordsEveryTime(SshPeer peer) {
    var wrong = SshPeer.rsa().getPublic();
    for (int i = 0; i < 2; i++) {
      assertThatThrownBy(() -> hosts.connect(peer.targetExpecting(wrong)))
          .isInstanceOf(HostKeyMismatchException.class)
          .hasMessageContaining("Refusing to connect")
          .hasMessageContaining("expected key is");
    }
  }

  // ---- connections are shared only by targets that authenticate alike, and closed when done with

  private static final JobRef NOBODY = new JobRef(UUID.randomUUID().toString(), "default", "nobody");

  private static int serverSees(SshPeer peer) {
    return Connections.established(peer.target().host(), peer.target().port());
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("peers")
  void aTargetWithTheSameUserHostAndPortButAnotherLoginKeyIsRefusedWhileTheFirstIsConnected(SshPeer peer) throws Exception {
    RemoteHost first = hosts.connect(peer.target());
    assertThat(first.probe(NOBODY).state()).isEqualTo(ProbeResult.State.ABSENT);
    SshTarget t = peer.target();

    SshTarget anyKey = new SshTarget(t.host(), t.port(), t.user(), SshPeer.rsa(), t.hostKey(), false);
    assertThatThrownBy(() -> hosts.connect(anyKey).probe(NOBODY))
        .isInstanceOf(HostUnreachableException.class).hasMessageContaining("login key was refused");
    // a key file may pair the first's public key, which is no secret, with a private key of its own
    SshTarget forged = new SshTarget(t.host(), t.port(), t.user(), new KeyPair(t.key().getPublic(), SshPeer.rsa().getPrivate()),
        t.hostKey(), false);
    assertThatThrownBy(() -> hosts.connect(forged).probe(NOBODY))
        .isInstanceOf(HostUnreachableException.class).hasMessageContaining("login key was refused");

    assertThat(first.probe(NOBODY).state()).as("the first goes on").isEqualTo(ProbeResult.State.ABSENT);
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("peers")
  void aTargetExpectingAnotherHostKeyIsRefusedWhileTheFirstIsConnected(SshPeer peer) throws Exception {
    RemoteHost first = hosts.connect(peer.target());
    assertThat(first.probe(NOBODY).state()).isEqualTo(ProbeResult.State.ABSENT);

    assertThatThrownBy(() -> hosts.connect(peer.targetExpecting(SshPeer.rsa().getPublic())).probe(NOBODY))
        .isInstanceOf(HostKeyMismatchException.class).hasMessageContaining("Refusing to connect");

    assertThat(first.probe(NOBODY).state()).isEqualTo(ProbeResult.State.ABSENT);
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("peers")
  void aJobsConnectionIsClosedWhenTheJobLetsGoAndASharedOneWhenTheLastJobDoes(SshPeer peer) throws Exception {
    JobRef a = new JobRef(UUID.randomUUID().toString(), "team-a", "a");
    JobRef b = new JobRef(UUID.randomUUID().toString(), "team-b", "b");
    await().atMost(WAIT).until(() -> serverSees(peer) == 0); // what earlier tests opened has closed

    RemoteHost forA = hosts.connect(peer.target(), a);
    RemoteHost forB = hosts.connect(peer.target(), b);
    forA.probe(a);
    forB.probe(b);
    await().atMost(WAIT).until(() -> serverSees(peer) == 1); // the same user and keys: one connection

    hosts.release(a);
    assertThat(forB.probe(b).state()).as("b still holds it").isEqualTo(ProbeResult.State.ABSENT);
    assertThat(serverSees(peer)).isEqualTo(1);

    hosts.release(b);
    await().atMost(WAIT).until(() -> serverSees(peer) == 0);
  }

  @org.junit.jupiter.api.Test
  void anIdleConnectionIsClosedAfterTheIdleTimeoutWhileATunnelKeepsItsOwn() throws Exception {
    SshPeer peer = mina;
    await().atMost(WAIT).until(() -> serverSees(peer) == 0);
    try (var quick = new SshRemoteHosts(settings.with(r -> r.idleTimeout = Duration.ofSeconds(1)));
        var listener = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      var forward = quick.connect(peer.target()).forward(0, listener.getLocalPort());
      SshTarget t = peer.target();
      RemoteHost other = quick.connect(new SshTarget(t.host(), t.port(), "someone-else", t.key(), t.hostKey(), false));
      other.probe(NOBODY);
      await().atMost(WAIT).until(() -> serverSees(peer) == 2);

      await().atMost(WAIT).until(() -> serverSees(peer) == 1); // the probe's connection, idle since
      try (var through = new java.net.Socket("127.0.0.1", forward.localPort()); var accepted = listener.accept()) {
        through.getOutputStream().write(42);
        assertThat(accepted.getInputStream().read()).as("the tunnel still carries").isEqualTo(42);
      }

      forward.close();
      await().atMost(WAIT).until(() -> serverSees(peer) == 0);
      assertThat(other.probe(NOBODY).state()).as("a later use connects again").isEqualTo(ProbeResult.State.ABSENT);
    }
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("peers")
  void theConnectionDroppingBetweenProbesIsSurvived(SshPeer peer) throws Exception {
    JobRef ref = newJob(peer);
    RemoteHost remote = hosts.connect(peer.target());
    remote.upload(bundle(ref, "import time\nwhile True: time.sleep(0.1)\n"));
    remote.startOnce(ref);
    await().atMost(WAIT).until(() -> remote.probe(ref).state() == ProbeResult.State.RUNNING);

    peer.dropConnections();

    await().atMost(WAIT).ignoreExceptions().until(() -> remote.probe(ref).sessionAlive());
    assertThat(remote.probe(ref).state()).isEqualTo(ProbeResult.State.RUNNING);
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("peers")
  void stopInterruptsTheScriptEndsTheSessionAndCleanupRemovesTheDirectory(SshPeer peer) throws Exception {
    JobRef ref = newJob(peer);
    RemoteHost remote = hosts.connect(peer.target());
    remote.upload(bundle(ref, """
        import os, signal, sys, time
        def on_notice(sig, frame):
            notice = os.path.exists(os.environ["TRAININGJOB_INTERRUPT_FILE"])
            print("notice (interrupt file: %s), saving a checkpoint" % notice, flush=True)
            sys.exit(143)
        signal.signal(signal.SIGTERM, on_notice)
        print("ready for the notice", flush=True)
        while True: time.sleep(0.1)
        """));
    remote.startOnce(ref);
    // the state file says running before Python is up; a notice then ends the job some other way
    await().atMost(WAIT).until(() -> remote.probe(ref).logTail().contains("ready for the notice"));

    remote.stop(ref);

    ProbeResult end = remote.probe(ref);
    assertThat(end.sessionAlive()).isFalse();
    assertThat(end.exitCode()).isEqualTo(143);
    assertThat(end.reason()).isEqualTo(ProbeResult.ExitReason.INTERRUPTED);
    assertThat(end.logTail()).contains("notice (interrupt file: True), saving a checkpoint");
    remote.cleanup(ref);
    assertThat(jobDir(peer, ref)).doesNotExist();
    assertThat(remote.probe(ref).state()).isEqualTo(ProbeResult.State.ABSENT);
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("peers")
  void stopEndsADaemonTheScriptLeftBehindWithSetsid(SshPeer peer) throws Exception {
    JobRef ref = newJob(peer);
    RemoteHost remote = hosts.connect(peer.target());
    remote.upload(bundle(ref, """
        import subprocess
        # a daemon in a session of its own, outliving the script: what a careless script leaves holding a GPU
        p = subprocess.Popen(["sleep", "600"], start_new_session=True, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        open("daemon.pid", "w").write(str(p.pid))
        """));
    remote.startOnce(ref);
    assertExitedZero(peer, remote, ref);
    long pid = Long.parseLong(Files.readString(jobDir(peer, ref).resolve("job/daemon.pid")).strip());
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).as("the daemon outlived the script").contains(true);

    remote.stop(ref);

    await().atMost(WAIT).until(() -> ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true));
    remote.cleanup(ref);
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("peers")
  void collectDownloadsFilesAndDirectoriesButNoSymbolicLinks(SshPeer peer) throws Exception {
    JobRef ref = newJob(peer);
    RemoteHost remote = hosts.connect(peer.target());
    remote.upload(bundle(ref, """
        import os
        open("model.pt", "wb").write(b"weights")
        os.makedirs("checkpoints/epoch-1", exist_ok=True)
        open("checkpoints/epoch-1/state.bin", "wb").write(b"state")
        os.symlink("/etc/hostname", "checkpoints/leak")
        """));
    remote.startOnce(ref);
    assertExitedZero(peer, remote, ref);
    Path out = tmp.resolve("out-" + ref.uid());

    Collected got = remote.collect(ref, List.of("model.pt", "checkpoints/", "missing.txt"), out, Long.MAX_VALUE);

    assertThat(out.resolve("model.pt")).hasContent("weights");
    assertThat(out.resolve("checkpoints/epoch-1/state.bin")).hasContent("state");
    assertThat(out.resolve("checkpoints/leak")).doesNotExist();
    assertThat(got.saved()).containsExactly("model.pt", "checkpoints/");
    assertThat(got.missing()).containsExactly("missing.txt");
    assertThat(got.cut()).isEmpty();

    // the operator's volume is bounded per job: what would pass the bound stays on the machine, and is named
    Path small = tmp.resolve("small-" + ref.uid());
    Collected bounded = remote.collect(ref, List.of("model.pt", "checkpoints/"), small, 10);
    assertThat(small.resolve("model.pt")).hasContent("weights");
    assertThat(small.resolve("checkpoints/epoch-1/state.bin")).doesNotExist();
    assertThat(bounded.saved()).containsExactly("model.pt");
    assertThat(bounded.cut()).containsExactly("checkpoints/");
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("onePeer")
  void theDebugHoldLeavesAShellInTheJobsDirectoryInItsScreenSessionUntilStop(SshPeer peer) throws Exception {
    JobRef ref = newJob(peer);
    RemoteHost remote = hosts.connect(peer.target());
    remote.upload(bundle(ref, "raise SystemExit(3)\n"));
    remote.startOnce(ref);
    assertThat(awaitExit(remote, ref).exitCode()).isEqualTo(3);
    String dir = jobDir(peer, ref).toString();

    remote.hold(ref, Instant.now().plusSeconds(3600).getEpochSecond());
    remote.hold(ref, Instant.now().plusSeconds(3600).getEpochSecond()); // a second reconcile's call keeps the same shell

    ProbeResult held = remote.probe(ref);
    assertThat(held.sessionAlive()).as("attach finds the job's session").isTrue();
    assertThat(held.exitCode()).as("the exit record is the script's still").isEqualTo(3);
    // the shell enters the job's directory once it has read its start-up file: wait for that, not for it to exist
    await().atMost(WAIT).until(() -> shellsIn(dir).stream().anyMatch(pid -> Path.of(dir, "job").equals(cwd(pid))));
    assertThat(sessionsNamed(ref.sessionName())).as("one session for attach, however often hold is asked").isEqualTo(1);

    remote.stop(ref);

    assertThat(remote.probe(ref).sessionAlive()).isFalse();
    assertThat(shellsIn(dir)).as("release leaves no shell of the hold").isEmpty();
  }

  /** How many screen sessions of this user carry the name (both peers run as this user). */
  private static long sessionsNamed(String session) throws Exception {
    Process ls = new ProcessBuilder("screen", "-ls").redirectErrorStream(true).start();
    String out = new String(ls.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    ls.waitFor();
    return out.lines().map(String::strip).filter(l -> l.matches("[0-9]+\\." + java.util.regex.Pattern.quote(session) + "\\s.*")).count();
  }

  private static Path cwd(long pid) {
    try {
      return Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "cwd"));
    } catch (IOException gone) {
      return null;
    }
  }

  /** The hold's shells of the job (they carry its marker), by pid. */
  private static List<Long> shellsIn(String dir) throws IOException {
    List<Long> found = new ArrayList<>();
    try (var procs = Files.list(Path.of("/proc"))) {
      for (Path p : procs.filter(p -> p.getFileName().toString().matches("[0-9]+")).toList()) {
        try {
          String environ = new String(Files.readAllBytes(p.resolve("environ")), StandardCharsets.UTF_8);
          String cmdline = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
          // the hold's shell (bash --rcfile hold.rc), and the copies of it its start-up file forks for a moment
          if (Arrays.asList(environ.split("\0")).contains("TRAININGJOB_JOB_DIR=" + dir) && cmdline.startsWith("bash\0--rcfile")) {
            found.add(Long.parseLong(p.getFileName().toString()));
          }
        } catch (IOException gone) {
          // a process that ended while it was read, or another user's
        }
      }
    }
    return found;
  }
}
