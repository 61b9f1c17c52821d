package dev.trainingjob.operator.redact;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.progress.LogProgress;
import dev.trainingjob.operator.remote.ssh.ProbeParser;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What the redactor leaves of a log: the corpus in src/test/resources/redaction (credentials in
 * their usual shapes, and ordinary training output that must stay as it is), line by line, as one
 * log and as a stream; PEM blocks however the window cuts them; multi-line Secret values.
 */
class LogRedactorTest {
  private static final Path FIXTURES = Path.of("src/test/resources/redaction");

  record Case(String in, String out) {
    @Override
    public String toString() {
      return in;
    }
  }

  static List<Case> corpus() throws IOException {
    List<Case> cases = new ArrayList<>();
    String pending = null;
    for (String line : Files.readAllLines(FIXTURES.resolve("corpus.txt"), StandardCharsets.UTF_8)) {
      if (line.startsWith("< ")) {
        pending = line.substring(2);
      } else if (line.startsWith("> ")) {
        cases.add(new Case(pending, line.substring(2)));
        pending = null;
      } else if (line.startsWith("= ")) {
        cases.add(new Case(line.substring(2), line.substring(2)));
      }
    }
    return cases;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corpus")
  void eachLineOfTheCorpus(Case c) {
    assertThat(LogRedactor.redact(List.of(c.in()), Set.of())).containsExactly(c.out());
  }

  @Test
  void theCorpusAsOneLogAndAsAStreamMasksTheSame() throws IOException {
    List<Case> cases = corpus();
    List<String> in = cases.stream().map(Case::in).toList();
    List<String> out = cases.stream().map(Case::out).toList();
    assertThat(LogRedactor.redact(in, Set.of())).containsExactlyElementsOf(out);
    // as screen's log holds it (\r\n) and as an SSH channel hands it over: in arbitrary pieces
    assertThat(streamed(String.join("\r\n", in) + "\r\n", Set.of(), 7)).isEqualTo(String.join("\r\n", out) + "\r\n");
  }

  static Stream<String> blocks() throws IOException {
    try (Stream<Path> files = Files.list(FIXTURES.resolve("blocks"))) {
      return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".log"))
          .map(n -> n.substring(0, n.length() - 4)).sorted().toList().stream();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("blocks")
  void pemBlocksAreMaskedWholeWhereverTheWindowCutsThem(String name) throws IOException {
    List<String> log = Files.readAllLines(FIXTURES.resolve("blocks/" + name + ".log"), StandardCharsets.UTF_8);
    List<String> masked = Files.readAllLines(FIXTURES.resolve("blocks/" + name + ".masked"), StandardCharsets.UTF_8);
    assertThat(LogRedactor.redact(log, Set.of())).containsExactlyElementsOf(masked);
  }

  @Test
  void aStreamMasksAKeyBlockAcrossWritesAndLinesUntilItsEnd() throws IOException {
    String log = Files.readString(FIXTURES.resolve("blocks/key-whole.log"), StandardCharsets.UTF_8);
    String masked = Files.readString(FIXTURES.resolve("blocks/key-whole.masked"), StandardCharsets.UTF_8);
    for (int piece : List.of(1, 5, 64, 4096)) {
      assertThat(streamed(log, Set.of(), piece)).as("written %d bytes at a time", piece).isEqualTo(masked);
    }
  }

  @Test
  void everyLineOfAMultiLineSecretValueIsMaskedEvenAlone() {
    String kubeconfig = """
        apiVersion: v1
        clusters:
        - cluster:
            certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJ
            server: https://10.0.0.1:6443
        users:
        - name: trainer
          user:
            client-key-data: TUlJRXBBSUJBQUtDQVFFQTBaM1ZTNEJ
        """;
    // a log window that starts at the value's fourth line: its first lines scrolled out
    List<String> window = List.of(
        "    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJ",
        "    server: https://10.0.0.1:6443",
        "epoch 2/10 loss=0.41",
        "  client-key-data: TUlJRXBBSUJBQUtDQVFFQTBaM1ZTNEJ");
    List<String> out = LogRedactor.redact(window, Set.of(kubeconfig));
    assertThat(out).containsExactly("    ******", "    ******", "epoch 2/10 loss=0.41", "  ******");
  }

  @Test
  void aSecretKeyFromASecretIsMaskedLineByLineWithoutItsMarkers() {
    String key = "-----BEGIN OPENSSH PRIVATE KEY-----\nuJAOi+wDxU+GnGQCmziWAO21zmd0IzhSA+rwmq0fjj0Uedm6ROtmsFmzhHI8ZR7b\n"
        + "jUl3mn8yIGSfRWFTLc7rdJ844AKlAAUxP0czy+2I1Qiu/20HuX969Kc6JZ6jmtJY\n-----END OPENSSH PRIVATE KEY-----\n";
    // the script printed the second body line alone, with no marker around it
    assertThat(LogRedactor.redact(List.of("got jUl3mn8yIGSfRWFTLc7rdJ844AKlAAUxP0czy+2I1Qiu/20HuX969Kc6JZ6jmtJY"), Set.of(key)))
        .containsExactly("got ******");
  }

  @Test
  void secretValuesShorterThanFourCharactersAreLeftAlone() {
    // a one-character secret would mask every 7 in the log
    assertThat(LogRedactor.redact(List.of("Epoch 3/10 - loss: 0.41 - id: 7", "connecting with s3cr3t-value-42"),
        Set.of("7", "s3cr3t-value-42"))).containsExactly("Epoch 3/10 - loss: 0.41 - id: 7", "connecting with ******");
  }

  @Test
  void theDetailOfAMessageIsMaskedAndNullStaysNull() {
    assertThat(LogRedactor.redact("cloning https://oauth2:glpat-abcdef123456@git.example.com/team/repo.git", Set.of()))
        .isEqualTo("cloning https://******@git.example.com/team/repo.git");
    assertThat(LogRedactor.redact("cloning https://git.example.com/team/repo.git", Set.of()))
        .isEqualTo("cloning https://git.example.com/team/repo.git");
    assertThat(LogRedactor.redact((String) null, Set.of())).isNull();
  }

  /**
   * Status parses progress from the masked lines (so no secret becomes a metric): masking must not
   * change a line of the output of the tools people train with, nor the progress read from it.
   */
  @Test
  void theProgressFixturesComeOutUnchangedAndParseTheSame() throws IOException {
    try (Stream<Path> files = Files.list(Path.of("src/test/resources/progress"))) {
      for (Path fixture : files.toList()) {
        List<String> lines = ProbeParser.lines(Files.readString(fixture, StandardCharsets.UTF_8));
        List<String> masked = LogRedactor.redact(lines, Set.of());
        assertThat(masked).as(fixture.toString()).containsExactlyElementsOf(lines);
        assertThat(LogProgress.parse(masked)).as(fixture.toString()).isEqualTo(LogProgress.parse(lines)).isNotEmpty();
      }
    }
  }

  /** Writes {@code text} through a RedactingOutputStream in pieces of {@code piece} bytes. */
  private static String streamed(String text, Set<String> values, int piece) throws IOException {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    RedactingOutputStream out = new RedactingOutputStream(sink, values);
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < bytes.length; i += piece) {
      if (piece == 1) {
        out.write(bytes[i]);
      } else {
        out.write(bytes, i, Math.min(piece, bytes.length - i));
      }
      out.flush();
    }
    out.finish();
    return sink.toString(StandardCharsets.UTF_8);
  }
}
