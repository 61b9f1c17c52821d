package dev.trainingjob.operator.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.trainingjob.operator.remote.ssh.SshRemoteHosts;
import dev.trainingjob.operator.support.SshPeer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The script's contract across attempts, on a real SSH server with real GNU screen and bash: the notice (the interrupt file,
 * SIGTERM), the checkpoint directory kept on the machine, TRAININGJOB_ATTEMPT and TRAININGJOB_RESUMED, a second attempt in
 * the same job directory, and a spot interruption notice from an instance metadata service (IMDSv2, a local stand-in).
 */
class AttemptsOnOneMachineTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  /** Saves a checkpoint on the notice (SIGTERM) and says what it saw; a second attempt reads the checkpoint back. */
  private static final String SCRIPT = """
      import os, signal, sys, time
      ckpt = os.environ["TRAININGJOB_CHECKPOINT_DIR"]
      state = os.path.join(ckpt, "epoch.txt")
      start = int(open(state).read()) if os.path.exists(state) else 0
      print("attempt=%s resumed=%s start=%d" % (os.environ["TRAININGJOB_ATTEMPT"], os.environ["TRAININGJOB_RESUMED"], start), flush=True)
      def on_term(sig, frame):
          notice = os.environ["TRAININGJOB_INTERRUPT_FILE"]
          print("notice=%s file=%s" % (sig, open(notice).read().strip() if os.path.exists(notice) else "missing"), flush=True)
          with open(state, "w") as f:
              f.write(str(epoch))
          sys.exit(143)
      signal.signal(signal.SIGTERM, on_term)
      epoch = start
      if start >= 3:
          print("finished from the checkpoint", flush=True)
          sys.exit(0)
      while True:
          epoch += 1
          print("epoch %d" % epoch, flush=True)
          if epoch == 3:
              open(os.path.join(os.environ["TRAININGJOB_OUTPUT_DIR"], "at-three"), "w").close()
          time.sleep(0.2 if epoch < 3 else 1)
      """;

  @TempDir
  static Path tmp;
  private static SshPeer peer;
  private final RemoteSettings settings = RemoteSettings.defaults().with(r -> r.stopGrace = Duration.ofSeconds(5));
  private final SshRemoteHosts hosts = new SshRemoteHosts(settings);
  private HttpServer metadata;

  @BeforeAll
  static void startPeer() throws Exception {
    peer = new SshPeer.Mina(tmp.resolve("mina"));
  }

  @AfterAll
  static void stopPeer() throws Exception {
    peer.close();
  }

  @AfterEach
  void close() {
    hosts.close();
    if (metadata != null) {
      metadata.stop(0);
    }
  }

  private JobBundle bundle(JobRef ref, MachineDuties duties) {
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("train.py", SCRIPT.getBytes(StandardCharsets.UTF_8));
    return new JobBundle(ref, files, "train.py", List.of(), Map.of(), new JobBundle.Python("system", null, List.of(), List.of()),
        null, List.of(), null, duties, new JobBundle.Checkpoint("ckpt", 600));
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
    await().atMost(WAIT).pollInterval(Duration.ofMillis(200)).until(() -> probe(remote, ref).exited() && !probe(remote, ref).sessionAlive());
    return probe(remote, ref);
  }

  private static String log(RemoteHost remote, JobRef ref) {
    return String.join("\n", probe(remote, ref).logTail());
  }

  @Test
  void aStoppedAttemptGetsTheNoticeAndTheNextAttemptOnTheMachineResumesFromItsCheckpoint() throws Exception {
    JobRef ref = newJob();
    RemoteHost remote = hosts.connect(peer.target());
    remote.upload(bundle(ref, MachineDuties.NONE));
    assertThat(remote.start(ref, 1)).isTrue();
    await().atMost(WAIT).until(() -> log(remote, ref).contains("epoch 3"));
    assertThat(log(remote, ref)).contains("attempt=1 resumed=0 start=0");

    remote.stop(ref);
    ProbeResult first = awaitExit(remote, ref);
    assertThat(first.reason()).isEqualTo(ProbeResult.ExitReason.INTERRUPTED);
    assertThat(first.exitCode()).isEqualTo(143);
    assertThat(first.attempt()).isEqualTo(1);
    assertThat(log(remote, ref)).as("SIGTERM, with the interrupt file already there").contains("notice=15 file=stop");

    assertThat(remote.start(ref, 1)).as("attempt 1 ran: not again").isFalse();
    assertThat(remote.start(ref, 2)).isTrue();
    ProbeResult second = awaitExit(remote, ref);
    assertThat(second.attempt()).isEqualTo(2);
    assertThat(second.reason()).isEqualTo(ProbeResult.ExitReason.EXITED);
    assertThat(second.exitCode()).isEqualTo(0);
    String log = log(remote, ref);
    assertThat(log).as("the log keeps both attempts").contains("attempt=1 resumed=0 start=0");
    assertThat(log).contains("finished from the checkpoint");
    assertThat(log).containsPattern("attempt=2 resumed=1 start=[3-9]");
    assertThat(remote.start(ref, 2)).isFalse();
    remote.cleanup(ref);
  }

  @Test
  void aSpotInterruptionNoticeFromTheMetadataServiceStopsTheScriptAndIsRecorded() throws Exception {
    AtomicBoolean notice = new AtomicBoolean();
    AtomicInteger tokenless = new AtomicInteger();
    metadata = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    metadata.createContext("/", exchange -> {
      String path = exchange.getRequestURI().getPath();
      byte[] body = new byte[0];
      int status;
      if (path.equals("/latest/api/token") && exchange.getRequestMethod().equals("PUT")
          && exchange.getRequestHeaders().getFirst("X-aws-ec2-metadata-token-ttl-seconds") != null) {
        status = 200;
        body = "token-1".getBytes(StandardCharsets.UTF_8);
      } else if (!"token-1".equals(exchange.getRequestHeaders().getFirst("X-aws-ec2-metadata-token"))) {
        tokenless.incrementAndGet();
        status = 401;
      } else if (path.equals("/latest/meta-data/spot/instance-action") && notice.get()) {
        status = 200;
        body = "{\"action\": \"terminate\", \"time\": \"2026-11-27T08:22:00Z\"}".getBytes(StandardCharsets.UTF_8);
      } else {
        status = 404;
      }
      exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    metadata.start();
    String url = "http://127.0.0.1:" + metadata.getAddress().getPort();

    JobRef ref = newJob();
    RemoteHost remote = hosts.connect(peer.target());
    remote.upload(bundle(ref, new MachineDuties(null, null, null, null, url)));
    remote.start(ref, 1);
    await().atMost(WAIT).until(() -> log(remote, ref).contains("epoch 3"));
    assertThat(probe(remote, ref).exited()).isFalse();

    notice.set(true);
    ProbeResult after = awaitExit(remote, ref);
    assertThat(after.reason()).isEqualTo(ProbeResult.ExitReason.SPOT_INTERRUPTED);
    assertThat(after.exitCode()).isEqualTo(143);
    assertThat(log(remote, ref)).contains("notice=15 file=spot");
    assertThat(tokenless.get()).as("every metadata request carried an IMDSv2 token").isZero();
    remote.cleanup(ref);
  }
}
