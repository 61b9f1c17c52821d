package dev.trainingjob.operator.outputs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.embedded.EmbeddedKubernetes;
import dev.trainingjob.operator.metrics.HealthServer;
import dev.trainingjob.operator.support.Jobs;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The operator's outputs endpoint, asked directly: what it serves, and the paths it never serves. */
class OutputsEndpointTest {
  @TempDir
  Path tmp;
  EmbeddedKubernetes api;
  KnownJobs jobs;
  HealthServer http;
  Path root;
  static final String TOKEN = "s3cr3t-token-of-the-operator";

  @BeforeEach
  void start() throws Exception {
    api = new EmbeddedKubernetes().start(0);
    root = Files.createDirectories(tmp.resolve("outputs"));
    jobs = KnownJobs.watch(api.client(), Set.of());
    http = serve(OutputsToken.from(Files.writeString(tmp.resolve("token"), TOKEN + "\n")));
  }

  private HealthServer serve(OutputsToken token) throws IOException {
    return serve(new OutputsEndpoint(root, jobs, token));
  }

  private static HealthServer serve(OutputsEndpoint endpoint) throws IOException {
    return new HealthServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), () -> true, () -> true, Map.of(OutputsEndpoint.PATH, endpoint));
  }

  @AfterEach
  void stop() {
    http.close();
    jobs.close();
    api.close();
  }

  private void job(String name) {
    api.client().resource(Jobs.simple(name)).inNamespace("default").create();
    await().atMost(Duration.ofSeconds(30)).until(() -> jobs.exists("default", name).orElse(false));
  }

  private record Answer(int status, String header, byte[] body) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  /** The request line exactly as written (no client in between normalises a ".."), with the operator's token. */
  private Answer get(String rawPath) throws IOException {
    return get(http, rawPath, TOKEN);
  }

  private static Answer get(HealthServer http, String rawPath, String token) throws IOException {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), http.port())) {
      OutputStream out = s.getOutputStream();
      String header = token == null ? "" : OutputsToken.HEADER + ": " + token + "\r\n";
      out.write(("GET " + rawPath + " HTTP/1.0\r\nHost: operator\r\n" + header + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      byte[] all = s.getInputStream().readAllBytes();
      int end = indexOf(all, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      String head = new String(all, 0, end, StandardCharsets.ISO_8859_1);
      byte[] body = java.util.Arrays.copyOfRange(all, end + 4, all.length);
      if (head.toLowerCase().contains("transfer-encoding: chunked")) {
        body = unchunk(body);
      }
      String marker = head.lines().filter(l -> l.toLowerCase().startsWith(OutputsEndpoint.HEADER.toLowerCase() + ":")).findFirst().orElse(null);
      return new Answer(Integer.parseInt(head.split(" ")[1]), marker, body);
    }
  }

  @Test
  void servesTheCollectedFilesOfAJobThatExistsAsAZip() throws Exception {
    job("trained");
    Files.createDirectories(root.resolve("default/trained/output/ckpt"));
    Files.writeString(root.resolve("default/trained/output/model.txt"), "weights");
    Files.writeString(root.resolve("default/trained/output/ckpt/1.txt"), "one");
    Path outside = Files.writeString(tmp.resolve("operator-only.txt"), "secret");
    Files.createSymbolicLink(root.resolve("default/trained/output/link.txt"), outside);
    Files.createSymbolicLink(root.resolve("default/trained/output/linked-dir"), tmp);

    Answer answer = get("/outputs/default/trained");

    assertThat(answer.status()).isEqualTo(200);
    assertThat(entries(answer.body())).containsExactly("output/ckpt/1.txt=one", "output/model.txt=weights",
        OutputsEndpoint.MANIFEST + "=files 2\nbytes 10\n");
  }

  @Test
  void neverServesOutsideTheRootNorForAJobThatDoesNotExist() throws Exception {
    // a folder whose job was deleted, and the operator's own files one level up
    Files.createDirectories(root.resolve("default/deleted"));
    Files.writeString(root.resolve("default/deleted/model.txt"), "left behind");
    Files.writeString(tmp.resolve("secret.txt"), "secret");
    job("linked");
    Files.createSymbolicLink(root.resolve("default/linked"), tmp);
    job("empty");
    Files.createDirectories(root.resolve("default/empty"));

    assertThat(get("/outputs/default/deleted")).satisfies(a -> {
      assertThat(a.status()).isEqualTo(404);
      assertThat(a.text()).isEqualTo("trainingjob default/deleted not found\n");
    });
    assertThat(get("/outputs/default/linked").text()).startsWith("no outputs were collected for default/linked");
    assertThat(get("/outputs/default/empty").text()).startsWith("no outputs were collected for default/empty");
    for (String path : List.of("/outputs/default/..", "/outputs/../default/linked", "/outputs/default/linked/../../secret.txt",
        "/outputs/default/%2e%2e", "/outputs/default%2F..%2F../x", "/outputs/default", "/outputs/Default/x", "/outputs/default/.x")) {
      Answer answer = get(path);
      assertThat(answer.status()).as(path).isEqualTo(404);
      assertThat(answer.text()).as(path).doesNotContain("secret");
    }
    // the marker tells the plugin that the operator, not the API server, refused
    assertThat(get("/outputs/default/deleted").header()).isNotNull();
  }

  /** The folder is per name: a job deleted and made again must not be handed the earlier one's files. */
  @Test
  void aJobMadeAgainUnderTheSameNameIsNotServedTheEarlierJobsFiles() throws Exception {
    Path folder = Files.createDirectories(root.resolve("default/again/output"));
    Files.writeString(folder.resolve("model.txt"), "the earlier job's weights");
    Files.setLastModifiedTime(folder.resolve("model.txt"), FileTime.from(Instant.now().minus(Duration.ofHours(1))));
    job("again");

    Answer before = get("/outputs/default/again");
    assertThat(before.status()).isEqualTo(404);
    assertThat(before.text()).isEqualTo("no outputs were collected for default/again (the folder holds an earlier job's "
        + "files of the same name)\n");

    // what the new job's collection writes is served, and only that
    Files.writeString(folder.resolve("metrics.json"), "{}");
    assertThat(entries(get("/outputs/default/again").body())).startsWith("output/metrics.json={}").hasSize(2);
  }

  /** A read error half way: the connection drops, so the client cannot take the zip so far for the whole of it. */
  @Test
  void aReadErrorPartWayDropsTheConnectionInsteadOfEndingTheAnswer() throws Exception {
    job("broken");
    Path folder = Files.createDirectories(root.resolve("default/broken"));
    Files.writeString(folder.resolve("a.txt"), "first");
    Files.writeString(folder.resolve("b.txt"), "unreadable");
    OutputsEndpoint failing = new OutputsEndpoint(root, jobs, OutputsToken.from(tmp.resolve("token")), file -> {
      if (file.getFileName().toString().equals("b.txt")) {
        throw new IOException("Input/output error");
      }
      return Files.newInputStream(file);
    });
    try (HealthServer server = serve(failing); Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
      s.getOutputStream().write(("GET /outputs/default/broken HTTP/1.1\r\nHost: operator\r\n" + OutputsToken.HEADER + ": "
          + TOKEN + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      String raw = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1); // until the server drops it
      assertThat(raw).startsWith("HTTP/1.1 200").containsIgnoringCase("transfer-encoding: chunked");
      assertThat(raw).as("no last chunk: the answer broke off").doesNotEndWith("0\r\n\r\n");
      assertThat(raw).doesNotContain(OutputsEndpoint.MANIFEST);
    }
  }

  /** Downloads are bounded: one more waits its turn (503, Retry-After), and the kubelet's probes are still answered. */
  @Test
  void downloadsBeyondTheBoundAreToldToComeBackAndTheProbesStillAnswer() throws Exception {
    job("big");
    Path folder = Files.createDirectories(root.resolve("default/big"));
    try (var file = new java.io.RandomAccessFile(folder.resolve("model.bin").toFile(), "rw")) {
      file.setLength(256L << 20); // sparse: cheap to make, and sent as it is (nothing is compressed)
    }
    List<Socket> slow = new ArrayList<>();
    try {
      for (int i = 0; i < OutputsEndpoint.MAX_DOWNLOADS; i++) {
        // a client that reads nothing: its download holds a thread until it goes
        Socket s = new Socket(InetAddress.getLoopbackAddress(), http.port());
        s.setReceiveBufferSize(4096);
        s.getOutputStream().write(("GET /outputs/default/big HTTP/1.1\r\nHost: operator\r\n" + OutputsToken.HEADER + ": "
            + TOKEN + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        slow.add(s);
        // its answer has begun: the server holds its download
        byte[] first = s.getInputStream().readNBytes(12);
        assertThat(new String(first, StandardCharsets.ISO_8859_1)).isEqualTo("HTTP/1.1 200");
      }
      Answer busy = get("/outputs/default/big");
      assertThat(busy.status()).isEqualTo(503);
      assertThat(busy.text()).startsWith("the operator is sending 4 downloads already");
      assertThat(get(http, "/healthz", null).status()).isEqualTo(200);
      assertThat(get(http, "/readyz", null).status()).isEqualTo(200);
    } finally {
      for (Socket s : slow) {
        s.close();
      }
    }
    // the dropped clients free their turns
    await().atMost(Duration.ofSeconds(30)).until(() -> headOf("/outputs/default/big").startsWith("HTTP/1.1 200"));
  }

  /** The status line only: the body is not read. */
  private String headOf(String path) throws IOException {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), http.port())) {
      s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: operator\r\n" + OutputsToken.HEADER + ": " + TOKEN
          + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      return new String(s.getInputStream().readNBytes(12), StandardCharsets.ISO_8859_1);
    }
  }

  @Test
  void withoutTheTokenAPodOnTheNetworkGetsNothingNotEvenWhichJobsExist() throws Exception {
    job("trained");
    Files.createDirectories(root.resolve("default/trained/output"));
    Files.writeString(root.resolve("default/trained/output/model.txt"), "weights");

    for (String token : new String[] {null, "", "guess", TOKEN + "x", TOKEN.substring(1)}) {
      for (String path : List.of("/outputs/default/trained", "/outputs/default/nope")) {
        Answer answer = get(http, path, token);
        assertThat(answer.status()).as(token + " " + path).isEqualTo(401);
        assertThat(answer.text()).as(token + " " + path).startsWith("a valid X-Trainingjob-Outputs-Token header is required")
            .doesNotContain("weights").doesNotContain("not found").doesNotContain(TOKEN);
      }
    }
    // the health server's other paths ask for no token: the kubelet and Prometheus carry none
    assertThat(get(http, "/healthz", null).status()).isEqualTo(200);
  }

  @Test
  void anOperatorGivenNoTokenFileOrAnEmptyOneServesNoOutputsToAnyone() throws Exception {
    job("trained");
    Files.createDirectories(root.resolve("default/trained/output"));
    Files.writeString(root.resolve("default/trained/output/model.txt"), "weights");
    Path empty = Files.writeString(tmp.resolve("empty-token"), "\n");
    for (OutputsToken off : List.of(OutputsToken.from(null), OutputsToken.from(empty), OutputsToken.from(tmp.resolve("absent")))) {
      try (HealthServer plain = serve(off)) {
        for (String token : new String[] {null, "", TOKEN}) {
          Answer answer = get(plain, "/outputs/default/trained", token);
          assertThat(answer.status()).isEqualTo(403);
          assertThat(answer.text()).startsWith("outputs are disabled: ").doesNotContain("weights");
          if (!off.configured()) {
            assertThat(answer.text()).contains("no --outputs-token-file");
          }
        }
      }
    }
  }

  private static List<String> entries(byte[] zip) throws IOException {
    List<String> out = new ArrayList<>();
    try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
      for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
        out.add(e.getName() + "=" + new String(in.readAllBytes(), StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  private static int indexOf(byte[] all, byte[] what) {
    outer:
    for (int i = 0; i <= all.length - what.length; i++) {
      for (int j = 0; j < what.length; j++) {
        if (all[i + j] != what[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new IllegalStateException("no end of headers");
  }

  private static byte[] unchunk(byte[] body) throws IOException {
    var out = new java.io.ByteArrayOutputStream();
    InputStream in = new ByteArrayInputStream(body);
    while (true) {
      StringBuilder size = new StringBuilder();
      for (int c; (c = in.read()) != '\n'; ) {
        if (c < 0) {
          throw new IOException("the chunked body ends before its last chunk"); // a cut answer, not a loop for ever
        }
        if (c != '\r') {
          size.append((char) c);
        }
      }
      int n = Integer.parseInt(size.toString().trim(), 16);
      if (n == 0) {
        return out.toByteArray();
      }
      out.write(in.readNBytes(n));
      in.readNBytes(2);
    }
  }
}
