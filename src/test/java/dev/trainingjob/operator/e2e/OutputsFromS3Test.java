package dev.trainingjob.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.api.TrainingJobStatus;
import dev.trainingjob.operator.embedded.EmbeddedKubernetes;
import dev.trainingjob.operator.fake.s3.FakeS3;
import dev.trainingjob.operator.support.Jobs;
import dev.trainingjob.operator.support.Plugin;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `kubectl trainingjob outputs` for an ec2 job whose instance copied its outputs to S3 (status.outputUri): the real
 * AWS SDK against a fake S3 endpoint, with credentials from the SDK's default chain (here its system properties).
 */
class OutputsFromS3Test {
  static final Map<String, String> AWS = Map.of("aws.accessKeyId", FakeS3.ACCESS_KEY, "aws.secretAccessKey", FakeS3.SECRET_KEY);

  @TempDir
  Path tmp;
  EmbeddedKubernetes api;
  Path kubeconfig;
  FakeS3 s3;

  @BeforeEach
  void start() throws Exception {
    api = new EmbeddedKubernetes().start(0);
    kubeconfig = api.writeKubeconfig(tmp.resolve("kubeconfig"));
    s3 = new FakeS3();
    s3.createBucket("models", "eu-west-1");
  }

  @AfterEach
  void stop() {
    s3.close();
    api.close();
  }

  /** A job as the operator leaves it once its instance copied the outputs (no operator runs here). */
  private void jobWithOutputsIn(String name, Phase phase, String outputUri) {
    api.client().resource(Jobs.simple(name)).inNamespace("default").create();
    TrainingJob job = api.client().resources(TrainingJob.class).inNamespace("default").withName(name).get();
    job.setStatus(new TrainingJobStatus());
    job.getStatus().phase = phase;
    job.getStatus().outputUri = outputUri;
    api.client().resource(job).updateStatus();
  }

  private Plugin.Result outputs(String name, Path to) {
    return outputs(name, to, "eu-west-1");
  }

  private Plugin.Result outputs(String name, Path to, String region) {
    return Plugin.run(kubeconfig, AWS, "outputs", name, "--to", to.toString(), "--region", region,
        "--s3-endpoint", s3.endpoint().toString());
  }

  @Test
  void downloadsEveryObjectUnderThePrefixPageByPageButNotThePreflightObjectOrASiblingPrefix() throws Exception {
    s3.put("models", "runs/r1/output/model.pt", "weights");
    s3.put("models", "runs/r1/output/metrics.json", "{\"loss\": 0.1}");
    s3.put("models", "runs/r1/output/plots/loss with space+plus.png", "png");
    s3.put("models", "runs/r1/.trainingjob-preflight", "preflight");
    s3.put("models", "runs/r10/other-run.txt", "not this job's");
    s3.pageSize(2);
    jobWithOutputsIn("r1", Phase.Succeeded, "s3://models/runs/r1");

    Path to = tmp.resolve("got");
    Plugin.Result result = outputs("r1", to);

    assertThat(result.code()).as(result.err()).isZero();
    assertThat(to.resolve("output/model.pt")).hasContent("weights");
    assertThat(to.resolve("output/metrics.json")).hasContent("{\"loss\": 0.1}");
    assertThat(to.resolve("output/plots/loss with space+plus.png")).hasContent("png");
    assertThat(to.resolve(".trainingjob-preflight")).doesNotExist();
    assertThat(to.resolve("other-run.txt")).doesNotExist();
    assertThat(result.out()).contains(to.resolve("output/model.pt") + " (7 bytes)")
        .contains("3 files, 23 bytes, from s3://models/runs/r1 into " + to.toRealPath());
    // two keys a page: the listing went on with S3's continuation token
    assertThat(s3.requests()).filteredOn(r -> r.contains("list-type=2") && r.contains("continuation-token=")).isNotEmpty();
  }

  /** What an s3Uri with a trailing slash, console folders and characters a URI refuses make of keys and names. */
  @Test
  void aTrailingSlashFolderMarkersAndOddCharactersInThePrefixStillGiveTheFiles() throws Exception {
    s3.put("models", "runs/r2//output/model.pt", "weights");
    s3.put("models", "runs/r2//.trainingjob-preflight", "preflight");
    s3.put("models", "runs/r2/", "");
    s3.put("models", "runs/r2//output/", "");
    jobWithOutputsIn("r2", Phase.Succeeded, "s3://models/runs/r2/");
    Path to = tmp.resolve("slash");
    Plugin.Result slash = outputs("r2", to);
    assertThat(slash.code()).as(slash.err()).isZero();
    assertThat(to.resolve("output/model.pt")).hasContent("weights");
    assertThat(to.resolve(".trainingjob-preflight")).doesNotExist();
    assertThat(slash.out()).contains("1 files, 7 bytes, from s3://models/runs/r2/");

    s3.put("models", "runs/exp[1]{a}%20b/model.pt", "odd");
    jobWithOutputsIn("odd", Phase.Succeeded, "s3://models/runs/exp[1]{a}%20b");
    Path odd = tmp.resolve("odd");
    Plugin.Result got = outputs("odd", odd);
    assertThat(got.code()).as(got.err()).isZero();
    assertThat(odd.resolve("model.pt")).hasContent("odd");
  }

  /** Files come out as any file the person writes (not private temporary ones), and what was not saved is said. */
  @Test
  void downloadedFilesAreReadableAndWhatWasNotSavedIsAWarning() throws Exception {
    s3.put("models", "runs/r3/output/model.pt", "weights");
    jobWithOutputsIn("r3", Phase.Failed, "s3://models/runs/r3");
    TrainingJob job = api.client().resources(TrainingJob.class).inNamespace("default").withName("r3").get();
    job.getStatus().outputs = new dev.trainingjob.operator.api.OutputsStatus();
    job.getStatus().outputs.notSaved = "the collect deadline (PT10M from the script's end) passed";
    job.getStatus().outputs.missing = java.util.List.of("plots");
    api.client().resource(job).updateStatus();

    Path to = tmp.resolve("r3");
    Plugin.Result got = outputs("r3", to);
    assertThat(got.code()).as(got.err()).isZero();
    assertThat(Files.getPosixFilePermissions(to.resolve("output/model.pt")))
        .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    assertThat(got.err()).isEqualTo("warning: not every output was saved: the collect deadline (PT10M from the script's end) "
        + "passed\nwarning: the script did not write plots\n");
  }

  /** A link already in --to leads nowhere: no folder is made outside it, even on the way to refusing. */
  @Test
  void aLinkInTheFolderMakesNoFolderOutsideIt() throws Exception {
    s3.put("models", "runs/r4/linked/sub/model.pt", "weights");
    jobWithOutputsIn("r4", Phase.Succeeded, "s3://models/runs/r4");
    Path outside = Files.createDirectories(tmp.resolve("elsewhere"));
    Path to = Files.createDirectories(tmp.resolve("r4"));
    Files.createSymbolicLink(to.resolve("linked"), outside);

    Plugin.Result got = outputs("r4", to);
    assertThat(got.code()).isEqualTo(1);
    assertThat(got.err()).contains("refusing to write linked/sub/model.pt").contains("leads outside");
    assertThat(outside.resolve("sub")).doesNotExist();
  }

  @Test
  void accessDeniedAndAMissingBucketEndInOneLineNamingTheBucketAndThePermission() throws Exception {
    s3.put("models", "runs/r1/output/model.pt", "weights");
    jobWithOutputsIn("r1", Phase.Succeeded, "s3://models/runs/r1");

    s3.deny("models", "s3:GetObject");
    Plugin.Result noGet = outputs("r1", tmp.resolve("a"));
    assertThat(noGet.code()).isEqualTo(1);
    assertThat(noGet.err().strip()).doesNotContain("\n").startsWith("error: access denied").contains("s3:GetObject")
        .contains("arn:aws:s3:::models/runs/r1/*");
    assertThat(tmp.resolve("a/output/model.pt")).doesNotExist();

    s3.deny("models", "s3:ListBucket");
    Plugin.Result noList = outputs("r1", tmp.resolve("b"));
    assertThat(noList.code()).isEqualTo(1);
    assertThat(noList.err().strip()).doesNotContain("\n").contains("s3:ListBucket on arn:aws:s3:::models").contains("the bucket models");

    jobWithOutputsIn("gone", Phase.Failed, "s3://deleted-bucket/runs/gone");
    Plugin.Result noBucket = outputs("gone", tmp.resolve("c"));
    assertThat(noBucket.code()).isEqualTo(1);
    assertThat(noBucket.err().strip()).doesNotContain("\n").contains("the bucket deleted-bucket").contains("does not exist");
  }

  @Test
  void anEmptyPrefixAnUnfinishedJobAndAnotherRegionAreClearRefusals() throws Exception {
    s3.put("models", "runs/empty/.trainingjob-preflight", "preflight");
    jobWithOutputsIn("empty", Phase.Succeeded, "s3://models/runs/empty");
    assertThat(outputs("empty", tmp.resolve("a")).err()).contains("nothing under s3://models/runs/empty");

    jobWithOutputsIn("busy", Phase.Running, null);
    Plugin.Result busy = outputs("busy", tmp.resolve("b"));
    assertThat(busy.code()).isEqualTo(1);
    assertThat(busy.err()).contains("default/busy is Running").contains("once it is Succeeded or Failed");

    s3.put("models", "runs/r1/model.pt", "weights");
    jobWithOutputsIn("r1", Phase.Succeeded, "s3://models/runs/r1");
    Plugin.Result wrongRegion = outputs("r1", tmp.resolve("c"), "us-east-1");
    assertThat(wrongRegion.code()).isEqualTo(1);
    assertThat(wrongRegion.err()).contains("AuthorizationHeaderMalformed").contains("expecting 'eu-west-1'");

    Plugin.Result noSuchJob = outputs("nope", tmp.resolve("d"));
    assertThat(noSuchJob.err()).contains("trainingjob default/nope not found");
  }

  @Test
  void aKeyThatWouldLeaveTheFolderIsRefusedAndNoFileIsReplaced() throws Exception {
    // S3 takes any key; a file name from it must still stay inside --to
    s3.put("models", "runs/evil/../../escaped.txt", "gotcha");
    jobWithOutputsIn("evil", Phase.Succeeded, "s3://models/runs/evil");
    Path to = tmp.resolve("deep/er/got");
    Plugin.Result evil = outputs("evil", to);
    assertThat(evil.code()).isEqualTo(1);
    assertThat(evil.err()).contains("refusing").contains("../../escaped.txt").contains("not a path inside");
    assertThat(tmp.resolve("deep/escaped.txt")).doesNotExist();
    assertThat(tmp.resolve("deep/er/escaped.txt")).doesNotExist();

    s3.put("models", "runs/r1/model.pt", "weights");
    jobWithOutputsIn("r1", Phase.Succeeded, "s3://models/runs/r1");
    Path mine = Files.createDirectories(tmp.resolve("mine"));
    Files.writeString(mine.resolve("model.pt"), "my own work");
    Plugin.Result again = outputs("r1", mine);
    assertThat(again.code()).isEqualTo(1);
    assertThat(again.err()).contains("refusing to overwrite " + mine.toRealPath().resolve("model.pt"));
    assertThat(mine.resolve("model.pt")).hasContent("my own work");
  }
}
