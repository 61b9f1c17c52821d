package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** What the job uses of its machine, from the last probe. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class MachineUsage {
  @JsonPropertyDescription("Bytes used on the file system holding the job.")
  public Long diskUsedBytes;

  @JsonPropertyDescription("Size of that file system in bytes.")
  public Long diskTotalBytes;

  @JsonPropertyDescription("Percent of that file system in use; above 90 the DiskPressure condition is True.")
  public Double diskUsedPercent;

  @JsonPropertyDescription("One entry per GPU, when the machine has nvidia-smi.")
  public List<Gpu> gpus;

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Gpu {
    @JsonPropertyDescription("The GPU's model, for example NVIDIA A10G.")
    public String name;

    @JsonPropertyDescription("GPU utilisation in percent.")
    public Double utilizationPercent;

    @JsonPropertyDescription("GPU memory in use, MiB.")
    public Long memoryUsedMiB;

    @JsonPropertyDescription("GPU memory in total, MiB.")
    public Long memoryTotalMiB;
  }
}
