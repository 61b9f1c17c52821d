package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.PrinterColumn;

/** An estimate of what the machine has cost so far: price per hour times the time since launch. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CostStatus {
  @JsonPropertyDescription("On-demand price per hour in USD of the instance type (from the operator's price list).")
  public Double hourlyUSD;

  @JsonPropertyDescription("Estimated cost so far in USD: hourlyUSD times the hours since launch (until release).")
  public Double estimatedUSD;

  @JsonPropertyDescription("True for spot instances: the on-demand price makes the estimate an upper bound.")
  public Boolean upperBound;

  @JsonPropertyDescription("The estimate as kubectl get shows it: $1.23, or <=$1.23 for spot.")
  @PrinterColumn(name = "Cost")
  public String summary;
}
