package dev.trainingjob.operator.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every reason word is written once, in {@link Reason}; code elsewhere names the constant. */
class ReasonCatalogueTest {
  private static final Path MAIN = Path.of("src/main/java/dev/trainingjob/operator");

  @Test
  void noReasonWordIsWrittenAsAStringLiteralOutsideTheCatalogue() throws IOException {
    List<String> found = new ArrayList<>();
    try (Stream<Path> files = Files.walk(MAIN)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
        String name = MAIN.relativize(file).toString().replace('\\', '/');
        // condition types share some words with reasons (Released, Failed): they are types, not reasons
        if (name.equals("job/Reason.java") || name.equals("api/ConditionType.java")) {
          continue;
        }
        String text = Files.readString(file);
        for (Reason r : Reason.values()) {
          if (text.contains("\"" + r.name() + "\"")) {
            found.add(name + ": \"" + r.name() + "\"");
          }
        }
      }
    }
    assertThat(found).as("reason literals outside job/Reason.java").isEmpty();
  }

  @Test
  void everyReasonSaysWhatItMeansAndIsACamelCaseWord() {
    assertThat(Arrays.stream(Reason.values())).allSatisfy(r -> {
      assertThat(r.name()).matches("[A-Z][A-Za-z0-9]+");
      assertThat(r.meaning()).isNotBlank();
    });
  }
}
