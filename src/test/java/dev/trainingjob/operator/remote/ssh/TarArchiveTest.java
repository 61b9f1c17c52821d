package dev.trainingjob.operator.remote.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The archive a new job directory's upload sends, as this machine's tar unpacks it (the command the upload runs). */
class TarArchiveTest {
  @TempDir
  Path dir;

  private Path unpack(byte[] archive) throws Exception {
    Path into = Files.createDirectories(dir.resolve("into"));
    Process tar = new ProcessBuilder("sh", "-c", "umask 077 && tar -x -m -p -o -f - -C \"$1\"", "sh", into.toString())
        .redirectErrorStream(true).start();
    tar.getOutputStream().write(archive);
    tar.getOutputStream().close();
    String said = new String(tar.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(tar.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(tar.exitValue()).as(said).isZero();
    assertThat(said).as("tar said nothing").isEmpty();
    return into;
  }

  private static String mode(Path p) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  @Test
  void filesAndDirectoriesArriveWithTheirContentAndModesLongNamesIncluded() throws Exception {
    String deep = "job/" + "a-rather-long-directory-name-for-a-dataset/".repeat(3) + "and-a-file-name-that-is-long-too.py";
    assertThat(deep.getBytes(StandardCharsets.UTF_8).length).as("past ustar's 100-byte name").isGreaterThan(100);
    byte[] binary = new byte[1500];
    for (int i = 0; i < binary.length; i++) {
      binary[i] = (byte) i;
    }
    TarArchive tar = new TarArchive();
    tar.directory("config", 0700);
    tar.directory("job", 0700);
    tar.file("driver.sh", 0700, "echo hi\n".getBytes(StandardCharsets.UTF_8));
    tar.file("config/git_token", 0600, "ghp_secret\n".getBytes(StandardCharsets.UTF_8));
    tar.file("config/empty", 0600, new byte[0]);
    String parent = deep.substring(0, deep.lastIndexOf('/'));
    for (int slash = parent.indexOf('/'); slash > 0; slash = parent.indexOf('/', slash + 1)) {
      tar.directory(parent.substring(0, slash), 0700);
    }
    tar.directory(parent, 0700);
    tar.file(deep, 0600, binary);
    tar.file("job/ünïcode.txt", 0600, "ü\n".getBytes(StandardCharsets.UTF_8));

    Path into = unpack(tar.bytes().orElseThrow());
    assertThat(into.resolve("driver.sh")).hasContent("echo hi");
    assertThat(mode(into.resolve("driver.sh"))).isEqualTo("rwx------");
    assertThat(into.resolve("config/git_token")).hasContent("ghp_secret");
    assertThat(mode(into.resolve("config/git_token"))).isEqualTo("rw-------");
    assertThat(mode(into.resolve("config"))).isEqualTo("rwx------");
    assertThat(into.resolve("config/empty")).isEmptyFile();
    assertThat(Files.readAllBytes(into.resolve(deep))).isEqualTo(binary);
    assertThat(mode(into.resolve(parent))).isEqualTo("rwx------");
    assertThat(into.resolve("job/ünïcode.txt")).hasContent("ü");
  }

  @Test
  void aNameUstarCannotHoldRefusesTheArchiveSoTheUploadGoesTheOtherWay() {
    TarArchive tar = new TarArchive();
    tar.file("job/" + "x".repeat(120), 0600, new byte[1]); // no slash leaves a name of at most 100 bytes
    assertThat(tar.bytes()).isEmpty();
  }
}
