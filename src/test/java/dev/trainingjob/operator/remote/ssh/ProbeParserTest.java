package dev.trainingjob.operator.remote.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.remote.ProbeResult;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class ProbeParserTest {
  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void gpuLinesInNvidiaSmiCsvFormatBecomeOneEntryPerGpu() throws Exception {
    // the shape of `nvidia-smi --query-gpu=name,utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits`
    // (written from its documented format; no GPU machine was available to record one)
    String csv = "NVIDIA H100 80GB HBM3, 97, 61234, 81559\nNVIDIA A10G, [N/A], 0, 23028\n";
    ProbeResult r = ProbeParser.parse("{\"state\":\"running\",\"exitCode\":null,\"sessionAlive\":true,\"reason\":\"\",\"log\":\"\","
        + "\"progress\":\"\",\"disk\":{\"usedBytes\":950,\"totalBytes\":1000},\"gpu\":\"" + b64(csv) + "\",\"uptimeSeconds\":12.5}");

    assertThat(r.gpus()).containsExactly(
        new ProbeResult.Gpu("NVIDIA H100 80GB HBM3", 97.0, 61234L, 81559L),
        new ProbeResult.Gpu("NVIDIA A10G", null, 0L, 23028L));
    assertThat(r.disk().usedPercent()).isEqualTo(95.0);
    assertThat(r.uptimeSeconds()).isEqualTo(12.5);
    assertThat(r.exitCode()).isNull();
    assertThat(r.reason()).isNull();
  }

  @Test
  void noNvidiaSmiMeansNoGpus() throws Exception {
    ProbeResult r = ProbeParser.parse("{\"state\":\"absent\",\"exitCode\":null,\"sessionAlive\":false,\"gpu\":\"\"}");
    assertThat(r.gpus()).isEmpty();
    assertThat(r.disk()).isNull();
  }
}
