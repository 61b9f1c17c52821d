package dev.trainingjob.operator.remote.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.remote.ProbeResult;
import dev.trainingjob.operator.remote.ProbeResult.ExitReason;
import dev.trainingjob.operator.remote.ProbeResult.State;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ProbeParserTest {
  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void gpuLinesInNvidiaSmiCsvFormatBecomeOneEntryPerGpu() throws Exception {
    // the shape of `nvidia-smi --query-gpu=name,utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits`
    // (written from its documented format; no GPU machine was available to record one)
    String csv = "NVIDIA H100 80GB HBM3, 97, 61234, 81559\nNVIDIA A10G, [N/A], 0, 23028\n";
    ProbeResult r = ProbeParser.parse("{\"state\":\"running\",\"exitCode\":null,\"sessionAlive\":true,\"reasonCode\":\"\",\"detail\":\"\",\"log\":\"\","
        + "\"progress\":\"\",\"disk\":{\"usedBytes\":950,\"totalBytes\":1000},\"gpu\":\"" + b64(csv) + "\",\"uptimeSeconds\":12.5}");

    assertThat(r.gpus()).containsExactly(
        new ProbeResult.Gpu("NVIDIA H100 80GB HBM3", 97.0, 61234L, 81559L),
        new ProbeResult.Gpu("NVIDIA A10G", null, 0L, 23028L));
    assertThat(r.disk().usedPercent()).isEqualTo(95.0);
    assertThat(r.uptimeSeconds()).isEqualTo(12.5);
    assertThat(r.exitCode()).isNull();
    assertThat(r.reason()).isEqualTo(ProbeResult.ExitReason.NONE);
    assertThat(r.detail()).isNull();
  }

  @Test
  void noNvidiaSmiMeansNoGpus() throws Exception {
    ProbeResult r = ProbeParser.parse("{\"state\":\"absent\",\"exitCode\":null,\"sessionAlive\":false,\"gpu\":\"\"}");
    assertThat(r.gpus()).isEmpty();
    assertThat(r.disk()).isNull();
  }

  private static ProbeResult exited(String reasonCode, String detail) throws Exception {
    return ProbeParser.parse("{\"state\":\"exited\",\"exitCode\":1,\"sessionAlive\":false,\"reasonCode\":\"" + reasonCode
        + "\",\"detail\":\"" + b64(detail) + "\"}");
  }

  @Test
  void everyStateWordTheDriverWritesIsKnown() throws Exception {
    for (State s : State.values()) {
      if (s != State.UNKNOWN) {
        assertThat(ProbeParser.parse("{\"state\":\"" + s.word() + "\"}").state()).isEqualTo(s);
      }
    }
    assertThat(ProbeParser.parse("{}").state()).isEqualTo(State.ABSENT);
  }

  @Test
  void aStateWordFromANewerDriverIsUnknownNotAnError() throws Exception {
    ProbeResult r = ProbeParser.parse("{\"state\":\"downloading\",\"exitCode\":null,\"sessionAlive\":true}");
    assertThat(r.state()).isEqualTo(State.UNKNOWN);
    assertThat(r.exited()).isFalse();
  }

  @Test
  void reasonCodesAreTypedAndTheDetailIsKeptApartAsWritten() throws Exception {
    assertThat(exited("exited", "the script exited with code 1").reason()).isEqualTo(ExitReason.EXITED);
    assertThat(exited("interrupted", "").reason()).isEqualTo(ExitReason.INTERRUPTED);
    assertThat(exited("sync-failed", "").reason()).isEqualTo(ExitReason.SYNC_FAILED);

    ProbeResult pip = exited("bootstrap-failed:pip", "installing requirements with pip (venv)\n");
    assertThat(pip.reason().kind()).isEqualTo(ExitReason.Kind.BOOTSTRAP_FAILED);
    assertThat(pip.reason().step()).isEqualTo("pip");
    assertThat(pip.reason().code()).isEqualTo("bootstrap-failed:pip");
    assertThat(pip.detail()).isEqualTo("installing requirements with pip (venv)");
    // a step word this side has not heard of is still a bootstrap failure
    assertThat(exited("bootstrap-failed:uv-sync", "").reason()).isEqualTo(ExitReason.bootstrapFailed("uv-sync"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"preempted", "bootstrap-failed", "bootstrap-failed:", "bootstrap-failed:-", "bootstrap-failed:pip:venv",
      "exited:0", "sync-failed:", "EXITED", "bootstrap-failed:Pip"})
  void aReasonCodeThatIsNotExactlyOneWeKnowIsUnknown(String code) {
    assertThat(ExitReason.parse(code)).isEqualTo(ExitReason.UNKNOWN);
  }

  @Test
  void aJobStartedByTheFirstReleaseKeepsItsMeaningAfterAnUpgrade() throws Exception {
    // probe.sh as the first release uploaded it: one sentence in "reason", no reasonCode
    ProbeResult bootstrap = ProbeParser.parse("{\"state\":\"exited\",\"exitCode\":1,\"sessionAlive\":false,\"reason\":\""
        + b64("bootstrap failed while installing requirements with pip (venv)") + "\"}");
    assertThat(bootstrap.reason().kind()).isEqualTo(ExitReason.Kind.BOOTSTRAP_FAILED);
    assertThat(bootstrap.detail()).isEqualTo("bootstrap failed while installing requirements with pip (venv)");
    // exit 0 with a failed copy must not read as a success whose outputs are in S3
    ProbeResult sync = ProbeParser.parse("{\"state\":\"exited\",\"exitCode\":0,\"sessionAlive\":false,\"reason\":\""
        + b64("output sync failed: aws s3 sync of model failed (to s3://b/p)") + "\"}");
    assertThat(sync.reason()).isEqualTo(ExitReason.SYNC_FAILED);
    assertThat(ProbeParser.parse("{\"state\":\"exited\",\"exitCode\":130,\"reason\":\"" + b64("interrupted") + "\"}").reason())
        .isEqualTo(ExitReason.INTERRUPTED);
    // the typed code wins whenever the probe has one
    assertThat(ProbeParser.parse("{\"state\":\"exited\",\"exitCode\":0,\"reasonCode\":\"exited\",\"reason\":\""
        + b64("output sync failed: x") + "\"}").reason()).isEqualTo(ExitReason.EXITED);
  }
}
