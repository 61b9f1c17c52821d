package dev.trainingjob.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.api.FailureStatus;
import dev.trainingjob.operator.api.FailureStatus.Category;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each kind of failure recognised from real output: src/test/resources/failures holds log tails as scripts print
 * them (PyTorch, TensorFlow, NCCL, pip, conda, the kernel's OOM killer), named after the category they show. The
 * first line of each says the exit code, how the driver recorded the end, the disk reading and the evidence line.
 */
class FailureDiagnosisTest {
  static final Path FIXTURES = Path.of("src/test/resources/failures");

  static Stream<String> fixtures() throws IOException {
    try (Stream<Path> files = Files.list(FIXTURES)) {
      return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".log")).sorted().toList().stream();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void eachCategoryIsRecognisedFromWhatTheScriptPrinted(String name) throws IOException {
    List<String> lines = Files.readAllLines(FIXTURES.resolve(name), StandardCharsets.UTF_8);
    Map<String, String> meta = meta(lines.get(0));
    Category expected = Category.valueOf(name.substring(0, name.indexOf("--")));

    FailureStatus f = FailureDiagnosis.diagnose(lines.subList(1, lines.size()), Integer.valueOf(meta.get("exit")),
        FailureDiagnosis.Ending.valueOf(meta.get("ending")), meta.containsKey("disk") ? Double.valueOf(meta.get("disk")) : null,
        meta.get("step"));

    assertThat(f.category).isEqualTo(expected);
    assertThat(f.exitCode).isEqualTo(Integer.valueOf(meta.get("exit")));
    assertThat(f.signal).isEqualTo(meta.get("signal"));
    if (!meta.get("evidence").isEmpty()) {
      assertThat(f.line).contains(meta.get("evidence"));
    }
    assertThat(f.hint).isNotBlank();
    // the sentence for the Message column and the Warning Event starts with the category
    assertThat(FailureDiagnosis.sentence(f, "the script exited with code " + f.exitCode)).startsWith(expected + ": ");
  }

  @Test
  void everyCategoryHasAFixture() throws IOException {
    List<String> names = fixtures().toList();
    assertThat(Arrays.stream(Category.values()).filter(c -> c != Category.Timeout))
        .allSatisfy(c -> assertThat(names).anyMatch(n -> n.startsWith(c + "--")));
  }

  @Test
  void aHintNamesTheFieldToChange() {
    FailureStatus missing = FailureDiagnosis.diagnose(List.of("ModuleNotFoundError: No module named 'wandb'"), 1,
        FailureDiagnosis.Ending.EXITED, null, null);
    assertThat(missing.hint).contains("spec.python.requirements");
    FailureStatus preflight = FailureDiagnosis.diagnose(List.of("upload failed: An error occurred (AccessDenied)"), 1,
        FailureDiagnosis.Ending.BOOTSTRAP_FAILED, null, "preflight");
    assertThat(preflight.hint).contains("s3:PutObject").contains("aws CLI");
    FailureStatus pep668 = FailureDiagnosis.diagnose(List.of("error: externally-managed-environment"), 1,
        FailureDiagnosis.Ending.BOOTSTRAP_FAILED, null, "pip");
    assertThat(pep668.hint).contains("venv");
    FailureStatus timeout = FailureDiagnosis.timeout(3600);
    assertThat(timeout.category).isEqualTo(Category.Timeout);
    assertThat(timeout.hint).contains("spec.limits.maxRuntimeSeconds (3600s)");
    // ordinary output that mentions memory is not a failure's evidence unless it is one
    FailureStatus plain = FailureDiagnosis.diagnose(List.of("peak memory 12 GiB", "Traceback (most recent call last):",
        "  File \"train.py\", line 3, in <module>", "KeyError: 'labels'"), 1, FailureDiagnosis.Ending.EXITED, 40.0, null);
    assertThat(plain.category).isEqualTo(Category.ScriptError);
    assertThat(plain.line).isEqualTo("KeyError: 'labels'");
  }

  private static Map<String, String> meta(String header) {
    assertThat(header).startsWith("#meta ");
    Map<String, String> meta = new HashMap<>();
    String rest = header.substring("#meta ".length());
    int evidence = rest.indexOf("evidence=");
    meta.put("evidence", rest.substring(evidence + "evidence=".length()));
    for (String kv : rest.substring(0, evidence).trim().split(" ")) {
      meta.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
    }
    return meta;
  }
}
