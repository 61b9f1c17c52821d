package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.PrinterColumn;

/**
 * The cost ledger of a job: every machine it held, from launch to termination, at a price with a named source, summed over
 * its attempts. An estimate from prices, never a bill.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CostStatus {
  /** Where a price comes from. */
  public static final String SOURCE_SPOT_HISTORY = "spot-price-history";
  public static final String SOURCE_PRICE_LIST = "price-list";
  public static final String SOURCE_SPEC = "spec";

  @JsonPropertyDescription("The price per hour in USD of the machine the job holds (or held last).")
  public Double pricePerHourUSD;

  @JsonPropertyDescription("Where pricePerHourUSD comes from: spot-price-history (EC2's spot price for the instance's type and "
      + "zone), price-list (the operator's on-demand list), spec (spec.compute.host or local hourlyPriceUSD).")
  public String priceSource;

  @JsonPropertyDescription("The cost so far in USD, all attempts together: each machine's price times the time from its launch "
      + "until its release (or now).")
  public Double totalUSD;

  @JsonPropertyDescription("totalUSD plus the time progress says is left (its ETA) at pricePerHourUSD; set once progress gives "
      + "an ETA.")
  public Double projectedTotalUSD;

  @JsonPropertyDescription("True for a spot instance priced from the on-demand list: the cost is then an upper bound.")
  public Boolean upperBound;

  @JsonPropertyDescription("True once the job's last machine was released: from then on the cost no longer changes (a later "
      + "spot price does not reprice it).")
  public Boolean complete;

  @JsonPropertyDescription("The cost as kubectl get shows it: $1.23, or <=$1.23 when it is an upper bound.")
  @PrinterColumn(name = "Cost")
  public String summary;

  @JsonPropertyDescription("The projected total as kubectl get -o wide shows it: $4.56.")
  @PrinterColumn(name = "Projected", priority = 1)
  public String projected;
}
