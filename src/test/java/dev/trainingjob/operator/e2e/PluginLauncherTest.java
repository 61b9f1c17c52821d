package dev.trainingjob.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.ProgressStatus;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.api.TrainingJobStatus;
import dev.trainingjob.operator.embedded.EmbeddedKubernetes;
import dev.trainingjob.operator.support.Jobs;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * operator/kubectl-trainingjob as a user's shell runs it, on a real JVM: the class-data-sharing archive the first call leaves,
 * the later call that runs on it, and archives that are broken. (How much faster: bench/plugin-startup.sh measures.)
 */
class PluginLauncherTest {
  static final Path LAUNCHER = Path.of("operator/kubectl-trainingjob").toAbsolutePath();

  @TempDir
  Path tmp;
  EmbeddedKubernetes api;
  Path kubeconfig;
  Path jar;
  Path java;
  Path archives;

  @BeforeEach
  void start() throws Exception {
    api = new EmbeddedKubernetes().start(0);
    kubeconfig = api.writeKubeconfig(tmp.resolve("kubeconfig"));
    TrainingJob job = api.client().resource(Jobs.simple("resnet")).inNamespace("default").create();
    job.setStatus(new TrainingJobStatus());
    job.getStatus().phase = Phase.Running;
    job.getStatus().progress = new ProgressStatus();
    job.getStatus().progress.percent = 45.0;
    api.client().resource(job).inNamespace("default").updateStatus();
    jar = jarOfThisBuild(tmp.resolve("trainingjob-operator.jar"));
    java = strictJava(tmp.resolve("bin/java"));
    archives = tmp.resolve("cache/trainingjob");
  }

  @AfterEach
  void stop() {
    api.close();
  }

  record Call(int code, String out, String err) {}

  @Test
  void theFirstCallLeavesAnArchiveTheNextRunsOnAndABrokenOneChangesNothingTheUserSees() throws Exception {
    Call first = get(false);
    assertThat(first.err()).isEmpty();
    assertThat(first.code()).isZero();
    assertThat(first.out()).containsPattern("NAME +PHASE +PROGRESS").containsPattern("resnet +Running +\\[#########-+\\]  45%");
    List<Path> made = archives();
    assertThat(made).as("one archive, no half-written file left").hasSize(1);
    assertThat(made.get(0).getFileName().toString()).startsWith("plugin-").endsWith(".jsa");

    // the JVM here refuses to start on an archive it cannot map (-Xshare:on): the call runs on the first one's
    Call second = get(true);
    assertThat(second.err()).isEmpty();
    assertThat(second.code()).isZero();
    assertThat(rows(second.out())).isEqualTo(rows(first.out()));
    assertThat(archives()).isEqualTo(made);

    // bytes changed, same size: the JVM's checksum refuses it and the call runs without it, saying nothing
    Path archive = made.get(0);
    long size = Files.size(archive);
    archive.toFile().setWritable(true);
    byte[] garbage = new byte[(int) size];
    Arrays.fill(garbage, (byte) 0x5a);
    Files.write(archive, garbage);
    Call corrupt = get(false);
    assertThat(corrupt.err()).isEmpty();
    assertThat(corrupt.code()).isZero();
    assertThat(rows(corrupt.out())).isEqualTo(rows(first.out()));

    // cut short (a full disk): the JVM would crash mapping it, so the launcher drops it and makes a whole one again
    Files.write(archive, Arrays.copyOf(garbage, 4096));
    Call truncated = get(false);
    assertThat(truncated.err()).isEmpty();
    assertThat(truncated.code()).isZero();
    assertThat(rows(truncated.out())).isEqualTo(rows(first.out()));
    assertThat(archives()).hasSize(1);
    assertThat(Files.size(archives().get(0))).isGreaterThan(4096);
  }

  /** `kubectl trainingjob get`, as kubectl runs the plugin; with {@code strict}, the JVM must map the archive it is given. */
  private Call get(boolean strict) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(LAUNCHER.toString(), "get");
    pb.environment().put("TRAININGJOB_JAR", jar.toString());
    pb.environment().put("TRAININGJOB_JAVA", java.toString());
    pb.environment().put("REAL_JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
    pb.environment().put("STRICT_SHARING", strict ? "1" : "");
    pb.environment().put("XDG_CACHE_HOME", tmp.resolve("cache").toString());
    pb.environment().put("KUBECONFIG", kubeconfig.toString());
    // the JVM announces these on stderr
    pb.environment().remove("JAVA_TOOL_OPTIONS");
    pb.environment().remove("JDK_JAVA_OPTIONS");
    Process p = pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    var err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
    String out = read(p.getInputStream());
    return new Call(p.waitFor(), out, err.join());
  }

  private static String read(java.io.InputStream in) {
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The table without its AGE column, which moves on between calls. */
  private static List<String> rows(String table) {
    return table.lines().map(l -> l.replaceAll("\\s+\\S+\\s*$", "")).toList();
  }

  private List<Path> archives() throws IOException {
    try (Stream<Path> files = Files.list(archives)) {
      return files.sorted().toList();
    }
  }

  /**
   * The JVM the launcher starts, which with STRICT_SHARING set runs only on its archive: -Xshare:on where the launcher
   * says -Xshare:auto, so that a JVM that cannot map it stops with an error instead of quietly loading every class.
   */
  private static Path strictJava(Path file) throws IOException {
    Files.createDirectories(file.getParent());
    Files.writeString(file, """
        #!/bin/sh
        for a do
          shift
          if [ -n "$STRICT_SHARING" ] && [ "$a" = -Xshare:auto ]; then a=-Xshare:on; fi
          set -- "$@" "$a"
        done
        exec "$REAL_JAVA" "$@"
        """);
    file.toFile().setExecutable(true);
    return file;
  }

  /**
   * A jar that runs this build as the shaded jar would (the tests run before `package` makes it): the compiled classes in
   * the jar, the dependencies' jars by its manifest's Class-Path. Directories cannot be on a class-data-sharing class path.
   */
  private static Path jarOfThisBuild(Path file) throws IOException {
    Path classes = Path.of("target/classes").toAbsolutePath();
    String classPath = Stream.of(System.getProperty("java.class.path").split(File.pathSeparator))
        .filter(e -> e.endsWith(".jar") && Files.isRegularFile(Path.of(e)))
        .map(e -> Path.of(e).toAbsolutePath().toUri().toString())
        .reduce((a, b) -> a + " " + b).orElseThrow();
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "dev.trainingjob.operator.cli.Main");
    manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, classPath);
    try (OutputStream os = Files.newOutputStream(file); JarOutputStream jar = new JarOutputStream(os, manifest);
        Stream<Path> all = Files.walk(classes)) {
      for (Path p : (Iterable<Path>) all.filter(Files::isRegularFile).sorted()::iterator) {
        jar.putNextEntry(new JarEntry(classes.relativize(p).toString().replace(File.separatorChar, '/')));
        Files.copy(p, jar);
        jar.closeEntry();
      }
    }
    return file;
  }
}
