package dev.trainingjob.operator.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.trainingjob.operator.provider.local.LocalSshServer;
import dev.trainingjob.operator.remote.ssh.SshRemoteHosts;
import dev.trainingjob.operator.support.OpenSshServer;
import dev.trainingjob.operator.support.SshPeer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Stream;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The driver clones with the credentials of spec.script.git.credentialsSecret for real, on a machine
 * (the MINA peer) that runs the real git: a token over https against a git server on 127.0.0.1 that
 * asks for it, a deploy key over ssh against a real OpenSSH sshd. git and ssh on the machine's PATH
 * record how they were called, and the https server looks at every process's command line and
 * environment while the clone is in flight: the secret is in none of them, and its files are gone
 * once the clone is over.
 */
class GitCredentialsTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final String TOKEN = "tok-" + UUID.randomUUID();
  private static final String TRAIN = "print('cloned and running', flush=True)\n";

  @TempDir
  static Path tmp;
  private static LocalSshServer machine;
  private static KeyPair login;
  private static HttpsServer https;
  private static OpenSshServer sshd;
  private static Path repo;
  private static Path record;
  private static final Queue<String> authorizations = new ConcurrentLinkedQueue<>();
  /** Every process's command line and environment, seen while git was talking to the server. */
  private static final Queue<String> processes = new ConcurrentLinkedQueue<>();
  private final List<JobRef> jobs = new ArrayList<>();
  private final SshRemoteHosts hosts = new SshRemoteHosts(RemoteSettings.defaults());

  @BeforeAll
  static void start() throws Exception {
    repo = bareRepository(tmp.resolve("git"));
    Path caCert = startHttps(tmp.resolve("tls"));
    sshd = new OpenSshServer(tmp.resolve("sshd"), SshPeer.rsa());
    record = tmp.resolve("calls.log");
    Path bin = recordingShims(tmp.resolve("bin"));
    login = KeyUtils.generateKeyPair(KeyPairProvider.SSH_RSA, 2048);
    machine = new LocalSshServer(tmp.resolve("machine"), InetAddress.getLoopbackAddress().getHostAddress(), 0,
        KeyUtils.generateKeyPair(KeyPairProvider.SSH_RSA, 2048),
        Map.of("PATH", bin + ":" + System.getenv("PATH"), "GIT_SSL_CAINFO", caCert.toString(), "TEST_RECORD", record.toString()));
    machine.authorize(login.getPublic());
  }

  @AfterAll
  static void stop() throws Exception {
    https.stop(0);
    sshd.close();
    machine.close();
  }

  @AfterEach
  void cleanUp() throws Exception {
    RemoteHost remote = hosts.connect(target());
    for (JobRef ref : jobs) {
      remote.stop(ref);
      remote.cleanup(ref);
    }
    hosts.close();
  }

  private static SshTarget target() {
    return new SshTarget(machine.host(), machine.port(), "trainer", login, machine.hostKey(), false);
  }

  // ---- the tests

  @Test
  void aTokenReachesGitThroughTheHelperOnlyAndIsGoneAfterTheClone() throws Exception {
    ProbeResult end = run(JobBundle.GitCredentials.token("ci-bot", TOKEN), httpsUrl());

    assertThat(end.exitCode()).isZero();
    assertThat(end.logTail()).contains("cloned and running");
    // the server asked, and got the token from the helper
    assertThat(authorizations).contains("Basic " + base64("ci-bot:" + TOKEN));
    assertThat(processes).as("process list while cloning").isNotEmpty().noneMatch(p -> p.contains(TOKEN));
    assertThat(Files.readString(record)).as("how git was called").contains("clone --quiet -- " + httpsUrl()).doesNotContain(TOKEN);
    assertNoTraceOnTheMachine(TOKEN);
  }

  @Test
  void aRefusedTokenFailsTheCloneAtOnceAndItsFilesGoToo() throws Exception {
    ProbeResult end = run(JobBundle.GitCredentials.token(null, "not-" + TOKEN), httpsUrl());

    // no terminal prompt to wait on: the clone fails instead of hanging until the pending deadline
    assertThat(end.reason()).isEqualTo(ProbeResult.ExitReason.bootstrapFailed("git"));
    assertThat(end.detail()).isEqualTo("cloning " + httpsUrl());
    assertThat(authorizations).contains("Basic " + base64("x-access-token:not-" + TOKEN));
    assertNoTraceOnTheMachine("not-" + TOKEN);
  }

  @Test
  void aDeployKeyReachesSshAsAFileWithTheServersHostKeyAndIsGoneAfterTheClone() throws Exception {
    String privateKey = deployKey();
    ProbeResult end = run(JobBundle.GitCredentials.sshKey(privateKey, knownHosts()), sshUrl());

    assertThat(end.exitCode()).isZero();
    assertThat(end.logTail()).contains("cloned and running");
    String calls = Files.readString(record);
    assertThat(calls).contains("IdentitiesOnly=yes", "StrictHostKeyChecking=yes", "config/git_ssh_key");
    String keyBody = privateKey.lines().filter(l -> !l.startsWith("-----")).findFirst().orElseThrow();
    assertThat(calls).doesNotContain(keyBody);
    assertNoTraceOnTheMachine(keyBody);
  }

  @Test
  void aServerWhoseHostKeyNobodyVouchedForIsRefused() throws Exception {
    ProbeResult end = run(JobBundle.GitCredentials.sshKey(deployKey(), null), sshUrl());

    // no trust on first use: without known_hosts only hosts the machine knows are accepted
    assertThat(end.reason()).isEqualTo(ProbeResult.ExitReason.bootstrapFailed("git"));
    assertThat(end.logTail()).anyMatch(l -> l.contains("Host key verification failed"));
    assertNoTraceOnTheMachine("PRIVATE KEY");
  }

  // ---- helpers

  private ProbeResult run(JobBundle.GitCredentials credentials, String url) throws Exception {
    Files.deleteIfExists(record);
    authorizations.clear();
    processes.clear();
    JobRef ref = new JobRef(UUID.randomUUID().toString(), "default", "git-" + UUID.randomUUID().toString().substring(0, 6));
    jobs.add(ref);
    RemoteHost remote = hosts.connect(target());
    remote.upload(new JobBundle(ref, Map.of(), "train.py", List.of(), Map.of(), new JobBundle.Python("system", null, List.of(), List.of()),
        new JobBundle.Git(url, null, credentials), List.of(), null, MachineDuties.NONE));
    remote.startOnce(ref);
    await().atMost(WAIT).pollInterval(Duration.ofMillis(200)).until(() -> remote.probe(ref).exited());
    await().atMost(WAIT).until(() -> !remote.probe(ref).sessionAlive());
    return remote.probe(ref);
  }

  /** No file of the job (its config, the checkout and its .git, the log) holds the secret, and the credential files are gone. */
  private void assertNoTraceOnTheMachine(String secret) throws IOException {
    Path dir = machine.home("trainer").resolve(jobs.get(jobs.size() - 1).directory());
    for (String name : List.of("git_token", "git_username", "git_ssh_key", "git_known_hosts")) {
      assertThat(dir.resolve("config/" + name)).as(name).doesNotExist();
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        assertThat(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1)).as(f.toString()).doesNotContain(secret);
      }
    }
  }

  private static String httpsUrl() {
    return "https://127.0.0.1:" + https.getAddress().getPort() + "/repo.git";
  }

  private static String sshUrl() {
    return "ssh://" + System.getProperty("user.name") + "@127.0.0.1:" + sshd.port() + repo;
  }

  private static String base64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  /** A fresh ed25519 deploy key that the sshd accepts, as the text a kubernetes.io/ssh-auth Secret holds. */
  private static String deployKey() throws Exception {
    Path key = tmp.resolve("deploy-" + UUID.randomUUID());
    exec(tmp, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "deploy", "-f", key.toString());
    Files.writeString(tmp.resolve("sshd/authorized_keys"), Files.readString(key.resolveSibling(key.getFileName() + ".pub")),
        java.nio.file.StandardOpenOption.APPEND);
    return Files.readString(key);
  }

  private static String knownHosts() throws IOException {
    return "[127.0.0.1]:" + sshd.port() + " " + Files.readString(tmp.resolve("sshd/host_ed25519.pub")).strip() + "\n";
  }

  /** A bare repository with train.py, served as files (git's dumb http protocol needs update-server-info). */
  private static Path bareRepository(Path dir) throws Exception {
    Path work = dir.resolve("work");
    Files.createDirectories(work);
    Files.writeString(work.resolve("train.py"), TRAIN);
    exec(work, "git", "init", "-q");
    exec(work, "git", "add", "train.py");
    exec(work, "git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "train");
    Path bare = dir.resolve("repo.git");
    exec(dir, "git", "clone", "-q", "--bare", work.toString(), bare.toString());
    exec(bare, "git", "update-server-info");
    return bare;
  }

  /** An https server on 127.0.0.1 with a certificate made here; every request needs user and token (HTTP Basic). */
  private static Path startHttps(Path dir) throws Exception {
    Files.createDirectories(dir);
    String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    Path store = dir.resolve("server.p12");
    exec(dir, keytool, "-genkeypair", "-alias", "git", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=127.0.0.1",
        "-ext", "san=ip:127.0.0.1", "-validity", "2", "-keystore", store.toString(), "-storetype", "PKCS12",
        "-storepass", "changeit", "-keypass", "changeit");
    Path cert = dir.resolve("ca.pem");
    exec(dir, keytool, "-exportcert", "-rfc", "-alias", "git", "-keystore", store.toString(), "-storepass", "changeit",
        "-file", cert.toString());
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      ks.load(in, "changeit".toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, "changeit".toCharArray());
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(kmf.getKeyManagers(), null, null);
    https = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    https.setHttpsConfigurator(new HttpsConfigurator(tls));
    https.createContext("/repo.git/", GitCredentialsTest::serve);
    https.start();
    return cert;
  }

  private static void serve(HttpExchange ex) throws IOException {
    try (ex) {
      snapshotProcesses();
      String auth = ex.getRequestHeaders().getFirst("Authorization");
      if (auth != null) {
        authorizations.add(auth);
      }
      if (!("Basic " + base64("ci-bot:" + TOKEN)).equals(auth)) {
        ex.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"git\"");
        ex.sendResponseHeaders(401, -1);
        return;
      }
      Path file = repo.resolve(ex.getRequestURI().getPath().substring("/repo.git/".length())).normalize();
      if (!file.startsWith(repo) || !Files.isRegularFile(file)) {
        ex.sendResponseHeaders(404, -1);
        return;
      }
      byte[] body = Files.readAllBytes(file);
      ex.getResponseHeaders().add("Content-Type", "text/plain");
      ex.sendResponseHeaders(200, body.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    }
  }

  /** What `ps -eww e` would show now: every process's command line and environment. */
  private static void snapshotProcesses() {
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
        for (String what : List.of("cmdline", "environ")) {
          try {
            processes.add(new String(Files.readAllBytes(p.resolve(what)), StandardCharsets.UTF_8).replace('\0', ' '));
          } catch (IOException e) {
            // a process that ended meanwhile, or one this user may not read
          }
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** git and ssh that write how they were called (arguments, environment) to TEST_RECORD, then run the real ones. */
  private static Path recordingShims(Path bin) throws IOException {
    Files.createDirectories(bin);
    for (String program : List.of("git", "ssh")) {
      Path shim = bin.resolve(program);
      Files.writeString(shim, "#!/bin/sh\n"
          + "{ printf 'argv:'; for a in \"$0\" \"$@\"; do printf ' %s' \"$a\"; done; printf '\\n'; env | sed 's/^/env: /'; } >> \"$TEST_RECORD\"\n"
          + "exec /usr/bin/" + program + " \"$@\"\n");
      Files.setPosixFilePermissions(shim, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    return bin;
  }

  private static void exec(Path dir, String... command) throws Exception {
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
    }
  }
}
