package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.PrinterColumn;
import java.util.Map;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class ProgressStatus {
  @JsonPropertyDescription("Percent done, 0-100.")
  public Double percent;

  @JsonPropertyDescription("The current epoch.")
  public Double epoch;

  @JsonPropertyDescription("The number of epochs in the run.")
  public Integer totalEpochs;

  @JsonPropertyDescription("The current step.")
  public Long step;

  @JsonPropertyDescription("The number of steps in the run.")
  public Long totalSteps;

  @JsonPropertyDescription("The latest numeric metrics the script reported, for example loss and accuracy.")
  public Map<String, Double> metrics;

  @JsonPropertyDescription("Progress in a few characters, as kubectl get shows it: 45% or epoch 3/10.")
  @PrinterColumn(name = "Progress")
  public String summary;

  @JsonPropertyDescription("When the script will finish at its current pace (RFC 3339), once percent is known.")
  public String eta;

  @JsonPropertyDescription("The time left until eta as kubectl get shows it (12m, 3h5m), as of updatedAt.")
  @PrinterColumn(name = "ETA")
  public String etaSummary;

  @JsonPropertyDescription("Where progress came from: progressFile (TRAININGJOB_PROGRESS_FILE) or log (parsed from the output).")
  public String source;

  @JsonPropertyDescription("When progress last changed (RFC 3339).")
  public String updatedAt;
}
