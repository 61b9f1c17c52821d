package dev.trainingjob.operator.remote;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * start.sh on a machine without GNU screen and without a way to install it, run by the real bash
 * with a PATH that holds only the few tools the script needs (no screen, no sudo, no package manager).
 */
class StartScriptTest {
  @TempDir
  Path tmp;

  @Test
  void withoutScreenAndNoWayToInstallItTheStartFailsWithInstructionsAndStartsNothing() throws Exception {
    Path job = tmp.resolve("job");
    Files.createDirectories(job.resolve("config"));
    Files.writeString(job.resolve("config/session"), "tj-demo-1234\n");
    try (InputStream in = getClass().getResourceAsStream("/remote/start.sh")) {
      Files.write(job.resolve("start.sh"), in.readAllBytes());
    }
    Path bin = Files.createDirectories(tmp.resolve("bin"));
    for (String tool : List.of("bash", "cat", "dirname", "id", "mkdir", "rmdir")) {
      Path real = List.of(Path.of("/usr/bin", tool), Path.of("/bin", tool)).stream().filter(Files::isExecutable).findFirst().orElseThrow();
      Files.createSymbolicLink(bin.resolve(tool), real);
    }

    ProcessBuilder pb = new ProcessBuilder(bin.resolve("bash").toString(), job.resolve("start.sh").toString());
    pb.environment().clear();
    pb.environment().put("PATH", bin.toString());
    pb.environment().put("HOME", tmp.toString());
    Process p = pb.start();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();

    assertThat(p.exitValue()).isEqualTo(10);
    assertThat(err).contains("GNU screen is not installed").contains("sudo apt-get install screen");
    assertThat(job.resolve("started")).as("a later start, once screen exists, must still work").doesNotExist();
  }
}
