package dev.trainingjob.operator.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.remote.ssh.SshRemoteHosts;
import dev.trainingjob.operator.support.SshPeer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A new run on the same machine (RemoteHost.renew, renew.sh), on a real SSH server with real GNU screen and bash: the last
 * run's files, log, exit record and attempts go, the Python environment (venv/, .bootstrapped) and the checkpoint directory
 * stay, the ec2 guard's power-off ceiling goes, and the new run's files go up and run there without preparing Python again.
 * Once per run: asked again for the same run it changes nothing; and never while the last run still runs.
 */
class RenewTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  /** The guard directory as an ec2 machine has it, under the test's guard root (the scripts' hook TRAININGJOB_GUARD_ROOT). */
  private static final String GUARD_DIR = "/var/lib/trainingjob-guard/job";
  /** A nested checkpoint path: renew.sh puts it back under job/ with its parents. */
  private static final String CHECKPOINT = "state/ckpt";
  /** Says what it runs with and what the checkpoint holds, adds its arguments to the checkpoint, writes an output. */
  private static final String SCRIPT = """
      import os, sys
      args = "+".join(sys.argv[1:])
      state = os.path.join(os.environ["TRAININGJOB_CHECKPOINT_DIR"], "seen.txt")
      seen = open(state).read().split() if os.path.exists(state) else []
      print("args=%s attempt=%s checkpoint=%s prefix=%s" % (args, os.environ["TRAININGJOB_ATTEMPT"], ",".join(seen), sys.prefix),
            flush=True)
      with open(state, "a") as f:
          f.write(args + "\\n")
      open(os.path.join(os.environ["TRAININGJOB_OUTPUT_DIR"], "result.txt"), "w").write(args)
      """;
  /** Runs until the notice (stop.sh's SIGTERM ends it). */
  private static final String SLEEPER = """
      import time
      print("working", flush=True)
      while True:
          time.sleep(0.2)
      """;

  @TempDir
  static Path tmp;
  private static SshPeer peer;
  private static Path guardRoot;
  private final RemoteSettings settings = RemoteSettings.defaults().with(r -> r.stopGrace = Duration.ofSeconds(5));
  private final SshRemoteHosts hosts = new SshRemoteHosts(settings);

  @BeforeAll
  static void startPeer() throws Exception {
    guardRoot = tmp.resolve("guard-root");
    Files.createDirectories(guardRoot.resolve(GUARD_DIR.substring(1)));
    peer = new SshPeer.Mina(tmp.resolve("mina"), Map.of("TRAININGJOB_GUARD_ROOT", guardRoot.toString()));
  }

  @AfterAll
  static void stopPeer() throws Exception {
    peer.close();
  }

  @AfterEach
  void close() {
    hosts.close();
  }

  private static JobBundle bundle(JobRef ref, String script, List<String> args) {
    return bundle(ref, script, args, "venv");
  }

  private static JobBundle bundle(JobRef ref, String script, List<String> args, String bootstrap) {
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("train.py", script.getBytes(StandardCharsets.UTF_8));
    files.put("data/extra.txt", "of this run only".getBytes(StandardCharsets.UTF_8));
    // venv without requirements: made offline, with the interpreter the machine has
    return new JobBundle(ref, files, "train.py", args, Map.of(), new JobBundle.Python(bootstrap, null, List.of(), List.of()),
        null, List.of(), null, new MachineDuties(GUARD_DIR, 3600L, null, null, null),
        new JobBundle.Checkpoint(CHECKPOINT, 600));
  }

  private static JobRef newJob() {
    return new JobRef(UUID.randomUUID().toString(), "default", "job-" + UUID.randomUUID().toString().substring(0, 6));
  }

  private static ProbeResult probe(RemoteHost remote, JobRef ref) {
    try {
      return remote.probe(ref);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static ProbeResult awaitExit(RemoteHost remote, JobRef ref) {
    await().atMost(WAIT).pollInterval(Duration.ofMillis(200)).until(() -> {
      ProbeResult p = probe(remote, ref);
      return p.exited() && !p.sessionAlive();
    });
    return probe(remote, ref);
  }

  private static Path dir(JobRef ref) throws Exception {
    return peer.home().resolve(ref.directory());
  }

  /** The job directory's entries, names only, sorted. */
  private static List<String> entries(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  /** Every regular file under the directory, relative to it, sorted. */
  private static List<String> filesUnder(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).sorted().toList();
    }
  }

  private static Path ceiling() {
    return guardRoot.resolve(GUARD_DIR.substring(1)).resolve("ceiling");
  }

  @Test
  void aNewRunOnTheMachineKeepsPythonAndTheCheckpointAndRunsItsOwnFiles() throws Exception {
    JobRef ref = newJob();
    RemoteHost remote = hosts.connect(peer.target());
    Path dir = dir(ref);

    // run 1: two attempts, each adding to the checkpoint and writing an output
    remote.upload(bundle(ref, SCRIPT, List.of("--lr", "0.1")));
    assertThat(remote.start(ref, 1)).isTrue();
    ProbeResult first = awaitExit(remote, ref);
    assertThat(first.exitCode()).isZero();
    assertThat(remote.start(ref, 2)).isTrue();
    ProbeResult second = awaitExit(remote, ref);
    assertThat(second.attempt()).isEqualTo(2);
    assertThat(second.exitCode()).isZero();
    String log1 = Files.readString(dir.resolve("output.log"));
    assertThat(log1).contains("creating a virtual environment").contains("python is ready")
        .contains("args=--lr+0.1 attempt=1 checkpoint= prefix=" + dir.resolve("venv"))
        .contains("args=--lr+0.1 attempt=2 checkpoint=--lr+0.1 prefix=" + dir.resolve("venv"));
    assertThat(dir.resolve("attempts/1/exit_code")).exists();
    assertThat(dir.resolve("job/output/result.txt")).hasContent("--lr+0.1");
    assertThat(ceiling()).as("the driver set the guard's ceiling").exists();
    Path python = dir.resolve("venv/bin/python");
    long venvMade = Files.getLastModifiedTime(dir.resolve("venv/pyvenv.cfg")).toMillis();

    // renew for run 2: everything of run 1 goes but Python and the checkpoint
    remote.renew(ref, "run-2");
    assertThat(entries(dir)).containsExactly(".bootstrapped", ".checkpoint-kept", ".run", ".start.lock", "job", "renew.sh", "venv");
    assertThat(filesUnder(dir.resolve("job"))).containsExactly(CHECKPOINT + "/seen.txt");
    assertThat(Files.readString(dir.resolve("job/" + CHECKPOINT + "/seen.txt"))).isEqualTo("--lr+0.1\n--lr+0.1\n");
    assertThat(dir.resolve(".run")).hasContent("run-2");
    assertThat(python).exists();
    assertThat(ceiling()).as("the ceiling counts from the new run's start: the driver writes it anew").doesNotExist();
    assertThat(probe(remote, ref).state()).as("to the operator the directory holds no job: the new files go up")
        .isEqualTo(ProbeResult.State.ABSENT);

    // the new run's files go up; renewed again for the same run (a status write that was lost), they stay
    remote.upload(bundle(ref, SCRIPT, List.of("--lr", "0.2", "--epochs", "3")));
    List<String> uploaded = filesUnder(dir);
    remote.renew(ref, "run-2");
    assertThat(filesUnder(dir)).isEqualTo(uploaded).contains("job/train.py", "job/data/extra.txt", "config/args", "driver.sh");

    // run 2, attempt 1: its own arguments, the checkpoint of run 1, the same venv, Python not prepared again
    assertThat(remote.start(ref, 1)).isTrue();
    ProbeResult run2 = awaitExit(remote, ref);
    assertThat(run2.attempt()).isEqualTo(1);
    assertThat(run2.exitCode()).isZero();
    assertThat(run2.reason()).isEqualTo(ProbeResult.ExitReason.EXITED);
    String log2 = Files.readString(dir.resolve("output.log"));
    assertThat(log2).contains("args=--lr+0.2+--epochs+3 attempt=1 checkpoint=--lr+0.1,--lr+0.1 prefix=" + dir.resolve("venv"))
        .as("the driver tells the script it finds a checkpoint (TRAININGJOB_RESUMED)")
        .contains("running train.py (attempt 1, resuming from state/ckpt)")
        .doesNotContain("args=--lr+0.1 ")
        .doesNotContain("creating a virtual environment")
        .doesNotContain("python is ready");
    assertThat(Files.getLastModifiedTime(dir.resolve("venv/pyvenv.cfg")).toMillis()).as("the venv was not made again")
        .isEqualTo(venvMade);
    assertThat(dir.resolve("job/output/result.txt")).hasContent("--lr+0.2+--epochs+3");
    assertThat(dir.resolve("attempts")).doesNotExist();
    assertThat(ceiling()).as("the new run's driver set the ceiling again").exists();

    // renewed for run 2 once more after it ran: nothing changes (its log, exit record and outputs stay)
    List<String> afterRun = filesUnder(dir);
    remote.renew(ref, "run-2");
    assertThat(filesUnder(dir)).isEqualTo(afterRun).contains("output.log", "exit_code", "job/output/result.txt");
    assertThat(remote.start(ref, 1)).as("run 2's attempt 1 ran: not again").isFalse();
    remote.cleanup(ref);
  }

  @Test
  void renewWhileTheLastRunStillRunsIsRefusedAndRemovesNothing() throws Exception {
    JobRef ref = newJob();
    RemoteHost remote = hosts.connect(peer.target());
    Path dir = dir(ref);
    remote.upload(bundle(ref, SLEEPER, List.of(), "system"));
    assertThat(remote.start(ref, 1)).isTrue();
    await().atMost(WAIT).until(() -> String.join("\n", probe(remote, ref).logTail()).contains("working"));
    List<String> before = filesUnder(dir);

    assertThatThrownBy(() -> remote.renew(ref, "run-2")).isInstanceOf(IOException.class)
        .hasMessageContaining("the last run still runs in screen session " + ref.sessionName());
    assertThat(filesUnder(dir)).containsAll(before).contains("job/train.py", "config/session", "output.log");
    assertThat(dir.resolve(".run")).doesNotExist();
    ProbeResult still = probe(remote, ref);
    assertThat(still.sessionAlive()).isTrue();
    assertThat(still.exited()).isFalse();

    // once the run was stopped, the same renew goes through
    remote.stop(ref);
    awaitExit(remote, ref);
    remote.renew(ref, "run-2");
    assertThat(entries(dir)).containsExactly(".bootstrapped", ".checkpoint-kept", ".run", ".start.lock", "job", "renew.sh");
    remote.cleanup(ref);
  }

  @Test
  void renewOfAJobDirectoryThatIsNotThereDoesNothing() throws Exception {
    JobRef ref = newJob();
    RemoteHost remote = hosts.connect(peer.target());
    remote.renew(ref, "run-2");
    assertThat(dir(ref)).doesNotExist();
    assertThat(probe(remote, ref).state()).isEqualTo(ProbeResult.State.ABSENT);
  }

  /** A renew cut short (killed after it set the checkpoint aside) loses nothing: the next one puts the checkpoint back first. */
  @Test
  void aRenewCutShortAfterItSetTheCheckpointAsideLosesNothing() throws Exception {
    JobRef ref = newJob();
    RemoteHost remote = hosts.connect(peer.target());
    Path dir = dir(ref);
    remote.upload(bundle(ref, SLEEPER, List.of(), "system"));
    // what a renew killed between setting the checkpoint aside and clearing leaves: config gone, the checkpoint in .renew-keep
    Files.createDirectories(dir.resolve(".renew-keep/checkpoint"));
    Files.writeString(dir.resolve(".renew-keep/checkpoint/state.json"), "{\"epoch\": 7}");
    Files.writeString(dir.resolve(".renew-keep/path"), "saved/state");
    Files.delete(dir.resolve("config/checkpoint_path"));

    remote.renew(ref, "run-3");
    assertThat(dir.resolve("job/saved/state/state.json")).hasContent("{\"epoch\": 7}");
    assertThat(dir.resolve(".renew-keep")).doesNotExist();
    assertThat(dir.resolve(".run")).hasContent("run-3");
    remote.cleanup(ref);
  }
}
