package dev.trainingjob.operator.cost;

import java.util.Optional;

/** The current spot price of a running instance (its type in its zone); provided by the ec2 provider. */
public interface SpotPrices {
  SpotPrices NONE = (instanceId, instanceType) -> Optional.empty();

  /** USD per hour; empty when it cannot be told now (the caller falls back to the price list). */
  Optional<Double> hourly(String instanceId, String instanceType);
}
