package dev.trainingjob.operator.cost;

import dev.trainingjob.operator.api.ComputeSpec;
import dev.trainingjob.operator.api.CostStatus;
import dev.trainingjob.operator.api.InstanceStatus;
import dev.trainingjob.operator.api.TrainingJob;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The price of a job's machine, with its source: a host or local machine at the spec's hourlyPriceUSD, an EC2 spot instance at
 * EC2's spot price for its type and zone, anything else at the on-demand price list.
 */
public final class JobPrices {
  private final PriceList list;
  private final SpotPrices spot;

  public JobPrices(PriceList list, SpotPrices spot) {
    this.list = list;
    this.spot = spot;
  }

  public static JobPrices of(PriceList list) {
    return new JobPrices(list, SpotPrices.NONE);
  }

  public PriceList list() {
    return list;
  }

  /** The compute spec the job runs with: as admitted, else as written. */
  private static ComputeSpec compute(TrainingJob job) {
    if (job.getStatus() != null && job.getStatus().compute != null) {
      return job.getStatus().compute;
    }
    return job.getSpec() == null ? null : job.getSpec().compute;
  }

  /** The spec's own price for a host or local machine; without one, the list's for the provider's name (host, local). */
  private Optional<Price> fromSpec(ComputeSpec compute) {
    if (compute == null) {
      return Optional.empty();
    }
    Double price = compute.host != null ? compute.host.hourlyPriceUSD : compute.local != null ? compute.local.hourlyPriceUSD : null;
    if (price == null) {
      String name = compute.host != null ? "host" : compute.local != null ? "local" : null;
      return list.hourly(name).map(p -> new Price(p, CostStatus.SOURCE_PRICE_LIST, false));
    }
    return Optional.of(new Price(price, CostStatus.SOURCE_SPEC, false));
  }

  /** The price of the machine the job holds now ({@code instance}); empty when it cannot be priced. */
  public Optional<Price> current(TrainingJob job, InstanceStatus instance) {
    ComputeSpec compute = compute(job);
    if (compute != null && (compute.host != null || compute.local != null)) {
      return fromSpec(compute);
    }
    if (instance == null || instance.type == null) {
      return Optional.empty();
    }
    boolean isSpot = Boolean.TRUE.equals(instance.spot);
    if (isSpot && instance.id != null) {
      Optional<Double> market = spot.hourly(instance.id, instance.type);
      if (market.isPresent()) {
        return Optional.of(new Price(market.get(), CostStatus.SOURCE_SPOT_HISTORY, false));
      }
    }
    return list.hourly(instance.type).map(p -> new Price(p, CostStatus.SOURCE_PRICE_LIST, isSpot));
  }

  /** The price of a past machine of the job (an earlier attempt's): the spec's, else the list's for its type. */
  public Optional<Price> ofType(TrainingJob job, String instanceType, boolean isSpot) {
    ComputeSpec compute = compute(job);
    if (compute != null && (compute.host != null || compute.local != null)) {
      return fromSpec(compute);
    }
    return list.hourly(instanceType).map(p -> new Price(p, CostStatus.SOURCE_PRICE_LIST, isSpot));
  }

  /**
   * The most an hour of the job's machine can cost, before any is launched: the spec's price, or the on-demand price of the
   * dearest instance type it allows (a spot instance never costs more). Empty when a type it allows has no price.
   */
  public Optional<Price> worstCase(TrainingJob job) {
    return worstCase(job, null);
  }

  /**
   * As {@link #worstCase(TrainingJob)}; a job whose spec names no compute runs on {@code provider} (the operator's default),
   * priced from the list by that name (host and local are there; ec2 is not: it has no one price).
   */
  public Optional<Price> worstCase(TrainingJob job, String provider) {
    ComputeSpec compute = compute(job);
    if (compute == null) {
      return provider == null ? Optional.empty() : list.hourly(provider).map(p -> new Price(p, CostStatus.SOURCE_PRICE_LIST, false));
    }
    if (compute.ec2 == null) {
      return fromSpec(compute);
    }
    List<String> types = new ArrayList<>();
    types.add(compute.ec2.instanceType);
    if (compute.ec2.fallbackInstanceTypes != null) {
      types.addAll(compute.ec2.fallbackInstanceTypes);
    }
    double most = 0;
    for (String type : types) {
      Optional<Double> p = list.hourly(type);
      if (p.isEmpty()) {
        return Optional.empty();
      }
      most = Math.max(most, p.get());
    }
    return Optional.of(new Price(most, CostStatus.SOURCE_PRICE_LIST, false));
  }
}
