package dev.trainingjob.operator.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.trainingjob.operator.remote.ssh.SshRemoteHosts;
import dev.trainingjob.operator.support.SshPeer;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * conda bootstrap with a stand-in Miniforge installer (src/test/resources/standin) served over
 * loopback HTTP. Runs against the MINA server, whose per-user home is a temporary directory: the
 * driver installs Miniforge under $HOME, which on the OpenSSH peer is the real user's home.
 */
class CondaBootstrapTest {
  @TempDir
  Path tmp;
  private HttpServer http;
  private final AtomicInteger downloads = new AtomicInteger();
  private byte[] installer;

  @BeforeEach
  void serveInstaller() throws Exception {
    try (InputStream in = getClass().getResourceAsStream("/standin/miniforge-standin.sh")) {
      installer = in.readAllBytes();
    }
    http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    http.createContext("/Miniforge3-Linux-x86_64.sh", exchange -> {
      downloads.incrementAndGet();
      exchange.sendResponseHeaders(200, installer.length);
      exchange.getResponseBody().write(installer);
      exchange.close();
    });
    http.start();
  }

  @AfterEach
  void stop() {
    http.stop(0);
  }

  private String url() {
    return "http://127.0.0.1:" + http.getAddress().getPort() + "/Miniforge3-Linux-x86_64.sh";
  }

  private static JobBundle job(String script) {
    JobRef ref = new JobRef(UUID.randomUUID().toString(), "default", "conda-job");
    return new JobBundle(ref, Map.of("train.py", script.getBytes(StandardCharsets.UTF_8)), "train.py", List.of(), Map.of(),
        new JobBundle.Python("conda", "3.11", List.of(), List.of("numpy=1.26", "scipy")), null, List.of(), null, MachineDuties.NONE);
  }

  private static ProbeResult run(RemoteHost remote, JobBundle bundle) throws Exception {
    remote.upload(bundle);
    remote.startOnce(bundle.job());
    await().atMost(Duration.ofSeconds(90)).until(() -> remote.probe(bundle.job()).exited());
    return remote.probe(bundle.job());
  }

  @Test
  void installsMinforgeOnceCreatesTheEnvironmentAndRunsTheScriptInIt() throws Exception {
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(installer));
    try (SshPeer.Mina peer = new SshPeer.Mina(tmp.resolve("host"));
         var hosts = new SshRemoteHosts(RemoteSettings.defaults().with(r -> {
           r.miniforgeUrl = url();
           r.miniforgeSha256 = sha.toUpperCase();
         }))) {
      RemoteHost remote = hosts.connect(peer.target());
      String script = "import sys\nprint('prefix', sys.prefix)\nprint('specs', open(sys.prefix + '/conda-specs.txt').read().split())\n";

      JobBundle first = job(script);
      ProbeResult one = run(remote, first);
      JobBundle second = job(script);
      ProbeResult two = run(remote, second);

      assertThat(one.exitCode()).isZero();
      String envPrefix = "prefix " + peer.home().resolve(first.job().directory()).resolve("conda-env");
      assertThat(one.logTail()).anyMatch(l -> l.equals(envPrefix));
      assertThat(one.logTail()).contains("specs ['python=3.11', 'numpy=1.26', 'scipy']");
      assertThat(two.exitCode()).isZero();
      assertThat(downloads).hasValue(1); // the second job found Miniforge installed
      assertThat(peer.home().resolve(".trainingjob/miniforge/bin/conda")).exists();
    }
  }

  @Test
  void aWrongSha256FailsClearlyAndInstallsNothing() throws Exception {
    String wrong = "0".repeat(64);
    try (SshPeer.Mina peer = new SshPeer.Mina(tmp.resolve("host"));
         var hosts = new SshRemoteHosts(RemoteSettings.defaults().with(r -> {
           r.miniforgeUrl = url();
           r.miniforgeSha256 = wrong;
         }))) {
      RemoteHost remote = hosts.connect(peer.target());
      ProbeResult end = run(remote, job("print('never')\n"));

      assertThat(end.exitCode()).isNotZero();
      assertThat(end.reason()).isEqualTo(ProbeResult.ExitReason.bootstrapFailed("miniforge"));
      assertThat(end.detail()).contains("verifying the Miniforge installer").contains("SHA-256").contains(wrong)
          .contains("nothing was installed");
      assertThat(end.logTail()).noneMatch(l -> l.contains("never"));
      assertThat(peer.home().resolve(".trainingjob/miniforge")).doesNotExist();
      assertThat(Files.list(peer.home().resolve(".trainingjob")).map(p -> p.getFileName().toString()))
          .noneMatch(n -> n.startsWith("miniforge-installer"));
    }
  }
}
