package dev.trainingjob.operator.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The image cannot be built here (no Docker engine); what can be checked is: what it copies exists,
 * the jar it runs is the one the build makes, the entrypoint's class is real, and it runs as non-root.
 */
class DockerfileTest {
  static final Path DOCKERFILE = Path.of("operator/Dockerfile");

  @Test
  void theImageRunsTheBuildsJarAsNonRootOnJava17() throws Exception {
    List<String> lines = Files.readAllLines(DOCKERFILE);
    String text = String.join("\n", lines);
    // the build stage copies what exists in the repository
    Matcher copy = Pattern.compile("(?m)^COPY (?!--from)(\\S+) ").matcher(text);
    int copies = 0;
    while (copy.find()) {
      assertThat(Path.of(copy.group(1))).as("COPY " + copy.group(1)).exists();
      copies++;
    }
    assertThat(copies).isGreaterThanOrEqualTo(4);
    // the jar the runtime stage takes is the build's: target/<finalName>.jar
    String pom = Files.readString(Path.of("pom.xml"));
    Matcher finalName = Pattern.compile("<finalName>([^<]+)</finalName>").matcher(pom);
    assertThat(finalName.find()).isTrue();
    Matcher fromBuild = Pattern.compile("COPY --from=build /src/target/(\\S+) (\\S+)").matcher(text);
    assertThat(fromBuild.find()).isTrue();
    assertThat(fromBuild.group(1)).isEqualTo(finalName.group(1) + ".jar");
    String jarInImage = fromBuild.group(2);
    assertThat(text).contains("ENTRYPOINT [\"java\", \"-jar\", \"" + jarInImage + "\"]");
    // the jar's Main-Class is a class the build compiles
    Matcher mainClass = Pattern.compile("<mainClass>([^<]+)</mainClass>").matcher(pom);
    assertThat(mainClass.find()).isTrue();
    assertThat(Class.forName(mainClass.group(1)).getMethod("main", String[].class)).isNotNull();
    // Java 17 runtime, non-root user
    assertThat(lines).anyMatch(l -> l.matches("FROM eclipse-temurin:17-jre.*"));
    assertThat(lines).anyMatch(l -> l.matches("USER 10001(:10001)?"));
    assertThat(text).contains("CMD [\"run\"]");
  }
}
