package dev.trainingjob.operator.fake.ec2;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fake instances' aws CLI, both ways: uploads into $FAKE_S3_ROOT, downloads out of it, failing where the real
 * CLI fails (a missing key: HeadObject's 404) and succeeding where it succeeds (a sync from an empty prefix), and
 * the hooks that refuse uploads ($FAKE_S3_ROOT/fail) and downloads ($FAKE_S3_ROOT/fail-download) separately.
 */
class FakeAwsCliTest {
  @TempDir
  Path tmp;
  Path s3;
  Path local;

  record Run(int exit, String out, String err) {}

  @BeforeEach
  void bucket() throws Exception {
    s3 = Files.createDirectories(tmp.resolve("s3"));
    local = Files.createDirectories(tmp.resolve("local"));
    Files.createDirectories(s3.resolve("models/runs/a/ckpt"));
    Files.writeString(s3.resolve("models/runs/a/model.txt"), "weights");
    Files.writeString(s3.resolve("models/runs/a/ckpt/step 10.pt"), "step ten");
  }

  @Test
  void cpDownloadsAKeyAndFailsOnAMissingOneAsTheRealCliDoes() throws Exception {
    Run ok = aws("s3", "cp", "--only-show-errors", "s3://models/runs/a/model.txt", local.resolve("in/model.txt").toString());
    assertThat(ok.exit()).as(ok.err()).isZero();
    assertThat(local.resolve("in/model.txt")).hasContent("weights");
    assertThat(ok.out()).isEmpty();

    Run intoFolder = aws("s3", "cp", "s3://models/runs/a/model.txt", local + "/");
    assertThat(intoFolder.exit()).isZero();
    assertThat(local.resolve("model.txt")).hasContent("weights");
    assertThat(intoFolder.out()).contains("download: s3://models/runs/a/model.txt to ");

    Run missing = aws("s3", "cp", "s3://models/runs/a/nothing.txt", local.resolve("nothing.txt").toString());
    assertThat(missing.exit()).isEqualTo(1);
    assertThat(missing.err().strip()).isEqualTo(
        "fatal error: An error occurred (404) when calling the HeadObject operation: Key \"runs/a/nothing.txt\" does not exist");
    assertThat(local.resolve("nothing.txt")).doesNotExist();
  }

  @Test
  void syncDownloadsAPrefixAndAnEmptyPrefixIsNoError() throws Exception {
    Run ok = aws("s3", "sync", "--only-show-errors", "s3://models/runs/a", local.resolve("a").toString());
    assertThat(ok.exit()).as(ok.err()).isZero();
    assertThat(local.resolve("a/model.txt")).hasContent("weights");
    assertThat(local.resolve("a/ckpt/step 10.pt")).hasContent("step ten");

    Run none = aws("s3", "sync", "s3://models/runs/never-written", local.resolve("b").toString());
    assertThat(none.exit()).as(none.err()).isZero();
    assertThat(none.out() + none.err()).isEmpty();
    assertThat(local.resolve("b")).doesNotExist();

    // --delete: what the prefix lacks goes
    Files.writeString(local.resolve("a/stale.txt"), "old");
    Files.delete(s3.resolve("models/runs/a/model.txt"));
    assertThat(aws("s3", "sync", "--delete", "s3://models/runs/a", local.resolve("a").toString()).exit()).isZero();
    assertThat(local.resolve("a/stale.txt")).doesNotExist();
    assertThat(local.resolve("a/model.txt")).doesNotExist();
    assertThat(local.resolve("a/ckpt/step 10.pt")).exists();
  }

  @Test
  void uploadsAndDownloadsAreRefusedByHooksOfTheirOwn() throws Exception {
    Files.writeString(local.resolve("up.txt"), "up");
    Files.writeString(s3.resolve("fail-download"), "runs/a");
    Run cp = aws("s3", "cp", "s3://models/runs/a/model.txt", local.resolve("x.txt").toString());
    assertThat(cp.exit()).isEqualTo(1);
    assertThat(cp.err()).contains("(403) when calling the HeadObject operation: Forbidden");
    Run sync = aws("s3", "sync", "s3://models/runs/a", local.resolve("y").toString());
    assertThat(sync.exit()).isEqualTo(1);
    assertThat(sync.err()).contains("(AccessDenied) when calling the ListObjectsV2 operation: Access Denied");
    assertThat(local.resolve("x.txt")).doesNotExist();
    assertThat(local.resolve("y")).doesNotExist();
    assertThat(aws("s3", "cp", local.resolve("up.txt").toString(), "s3://models/runs/a/up.txt").exit()).as("uploads go on").isZero();
    assertThat(s3.resolve("models/runs/a/up.txt")).hasContent("up");
    Files.delete(s3.resolve("fail-download"));

    Files.writeString(s3.resolve("fail"), "*");
    Run up = aws("s3", "cp", local.resolve("up.txt").toString(), "s3://models/other/up.txt");
    assertThat(up.exit()).isEqualTo(1);
    assertThat(up.err()).contains("(AccessDenied) when calling the PutObject operation: Access Denied");
    assertThat(s3.resolve("models/other")).doesNotExist();
    assertThat(aws("s3", "cp", "s3://models/runs/a/model.txt", local.resolve("z.txt").toString()).exit()).as("downloads go on").isZero();
    assertThat(local.resolve("z.txt")).hasContent("weights");
  }

  private Run aws(String... args) throws Exception {
    Path script = Path.of(FakeAwsCliTest.class.getResource("/fake-ec2/bin/aws").toURI());
    List<String> command = new ArrayList<>(List.of("bash", script.toString()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).directory(local.toFile());
    pb.environment().put("FAKE_S3_ROOT", s3.toString());
    Path out = tmp.resolve("out");
    Path err = tmp.resolve("err");
    Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("the fake aws CLI did not finish within 60s: " + command);
    }
    return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
  }
}
