package dev.trainingjob.operator.remote.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.remote.ProbeResult;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * probe.sh's disk reading with each awk the images ship, on a file system far past 32 bits as df
 * reports it (a fixture df): mawk, Debian's and Ubuntu's default awk, once read every disk as a
 * 2 GiB one, 100 % used.
 */
class ProbeDiskReadingTest {
  /** A 5 TiB volume with 2 TiB used, as `df -Pk` prints it (sizes in KiB). */
  static final String DF = """
      Filesystem     1024-blocks       Used  Available Capacity Mounted on
      /dev/nvme1n1    5368709120 2147483648 3221225472      40% /data
      """;

  @TempDir
  Path dir;

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"/usr/bin/mawk", "/usr/bin/gawk"})
  void aDiskPastFourTebibytesIsReadRightWithEitherAwk(String awk) throws Exception {
    assertThat(Path.of(awk)).as("the test command installs both awks (.ci/test.sh)").isExecutable();
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Files.createSymbolicLink(bin.resolve("awk"), Path.of(awk));
    Path df = Files.writeString(bin.resolve("df"), "#!/bin/sh\ncat <<'DF'\n" + DF + "DF\n");
    df.toFile().setExecutable(true);
    Path job = Files.createDirectories(dir.resolve("job"));
    try (InputStream in = getClass().getResourceAsStream("/remote/probe.sh")) {
      Files.write(job.resolve("probe.sh"), in.readAllBytes());
    }

    ProcessBuilder pb = new ProcessBuilder("bash", job.resolve("probe.sh").toString()).redirectError(dir.resolve("err").toFile())
        .redirectOutput(dir.resolve("out").toFile());
    pb.environment().put("PATH", bin + ":/usr/bin:/bin");
    Process p = pb.start();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    String out = Files.readString(dir.resolve("out"), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(Files.readString(dir.resolve("err"))).isZero();

    ProbeResult probe = ProbeParser.parse(out);
    assertThat(probe.disk().totalBytes()).isEqualTo(5368709120L * 1024);
    assertThat(probe.disk().usedBytes()).isEqualTo(2147483648L * 1024);
    assertThat(probe.disk().usedPercent()).isEqualTo(40.0);
  }
}
