package dev.trainingjob.operator.remote.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The driver's watcher (a spot notice from the metadata service, the periodic checkpoint copy) runs only where it has
 * something to watch for: on a machine of a hundred jobs it was a process or two a second each (measured: 30,000 processes
 * started while 150 local jobs ramped up, the machine's two cores full). The script looks at its own parent, the driver,
 * once the driver waits for it (the kernel says so: {@code do_wait}), and lists the driver's children.
 */
class DriverWatcherTest {
  @TempDir
  Path dir;

  private static final String SCRIPT = """
      import os, subprocess, time
      driver = os.getppid()
      for _ in range(600):
          with open(f"/proc/{driver}/wchan") as f:
              if f.read().strip() == "do_wait":
                  break
          time.sleep(0.05)
      children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(driver)], capture_output=True, text=True).stdout.split()
      print("driver children:", len(children), flush=True)
      """;

  private String run(Map<String, String> env) throws Exception {
    Path job = Files.createDirectories(dir.resolve("run-" + env.size()));
    try (InputStream in = getClass().getResourceAsStream("/remote/driver.sh")) {
      Files.write(job.resolve("driver.sh"), in.readAllBytes());
    }
    Files.createDirectories(job.resolve("config"));
    Files.writeString(job.resolve("config/entrypoint"), "train.py");
    Files.writeString(job.resolve("config/bootstrap"), "system");
    Files.createDirectories(job.resolve("job"));
    Files.writeString(job.resolve("job/train.py"), SCRIPT);
    ProcessBuilder pb = new ProcessBuilder("bash", job.resolve("driver.sh").toString())
        .redirectErrorStream(true).redirectOutput(job.resolve("driver.out").toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("the driver ended").isTrue();
    String out = Files.readString(job.resolve("driver.out")) + (Files.exists(job.resolve("output.log"))
        ? Files.readString(job.resolve("output.log")) : "");
    assertThat(Files.readString(job.resolve("exit_code")).strip()).as(out).isEqualTo("0");
    return out;
  }

  @Test
  void aJobWithNothingToWatchForRunsBesideNoWatcher() throws Exception {
    assertThat(run(Map.of())).as("the script alone").contains("driver children: 1");
  }

  @Test
  void aMachineWithAMetadataServiceHasTheWatcherBesideTheScript() throws Exception {
    // a metadata service nobody answers at (a loopback port that refuses): the watcher looks, finds no notice, goes on
    assertThat(run(Map.of("TRAININGJOB_IMDS_URL", "http://127.0.0.1:9"))).as("the script and the watcher")
        .contains("driver children: 2");
  }
}
