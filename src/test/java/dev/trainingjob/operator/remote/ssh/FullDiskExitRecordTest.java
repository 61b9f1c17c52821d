package dev.trainingjob.operator.remote.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.remote.ProbeResult;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A script that fills the disk and exits 0 succeeded: the driver's exit record must still be written. The job
 * directory is a 2 MiB tmpfs, mounted in a mount namespace of its own (unshare, no privileges needed beyond a
 * user namespace), which refuses writes with ENOSPC once full. Once, the record's first write failed there and
 * the job was read as a lost driver, its outputs never collected.
 */
class FullDiskExitRecordTest {
  @TempDir
  Path dir;

  @Test
  void aScriptThatFillsTheDiskAndExitsZeroIsRecordedAsExitedZero() throws Exception {
    Process can = new ProcessBuilder("unshare", "-Urm", "true").redirectErrorStream(true).start();
    String why = new String(can.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(can.waitFor(30, TimeUnit.SECONDS) && can.exitValue() == 0)
        .as("this test needs a mount namespace of its own (unshare -Urm: unprivileged user namespaces), which this machine "
            + "refuses: " + why).isTrue();
    Path staged = Files.createDirectories(dir.resolve("staged"));
    for (String script : new String[] {"driver.sh", "probe.sh"}) {
      try (InputStream in = getClass().getResourceAsStream("/remote/" + script)) {
        Files.write(staged.resolve(script), in.readAllBytes());
      }
    }
    Files.createDirectories(staged.resolve("config"));
    Files.writeString(staged.resolve("config/entrypoint"), "train.py");
    Files.writeString(staged.resolve("config/bootstrap"), "system");
    Files.createDirectories(staged.resolve("job"));
    Files.writeString(staged.resolve("job/train.py"), """
        import os
        try:
            with open("filler", "wb") as f:
                while True:
                    f.write(b"x" * 65536)
                    f.flush()
        except OSError as e:
            print("the disk is full:", e, flush=True)
        """);
    Path jobDir = Files.createDirectories(dir.resolve("mnt"));

    // in the namespace: a full-size-limited tmpfs over the job directory, the job's files in it, the driver, then a
    // probe whose answer is the test's evidence (the tmpfs goes with the namespace)
    ProcessBuilder pb = new ProcessBuilder("unshare", "-Urm", "sh", "-c",
        "mount -t tmpfs -o size=2m tmpfs \"$1\" && cp -a \"$2\"/. \"$1\"/ && bash \"$1/driver.sh\" > \"$3/driver.out\" 2>&1;"
            + " df -k \"$1\" | tail -1 > \"$3/df\"; bash \"$1/probe.sh\" > \"$3/probe.json\"",
        "test", jobDir.toString(), staged.toString(), dir.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("unshare.out").toFile());
    Process p = pb.start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    Path driverOut = dir.resolve("driver.out");
    String trace = Files.readString(dir.resolve("unshare.out")) + (Files.exists(driverOut) ? Files.readString(driverOut) : "");
    assertThat(p.exitValue()).as(trace).isZero();
    assertThat(Files.readString(dir.resolve("df")).split("\\s+")[3]).as("the disk was full: " + trace).isEqualTo("0");

    ProbeResult probe = ProbeParser.parse(Files.readString(dir.resolve("probe.json"), StandardCharsets.UTF_8));
    assertThat(probe.exited()).as(trace).isTrue();
    assertThat(probe.exitCode()).isZero();
    assertThat(probe.reason().kind()).isEqualTo(ProbeResult.ExitReason.Kind.EXITED);
    assertThat(probe.detail()).isEqualTo("the script exited with code 0");
  }
}
