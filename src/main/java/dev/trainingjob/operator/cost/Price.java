package dev.trainingjob.operator.cost;

/**
 * What an hour of a machine costs, and where that figure comes from (a {@code CostStatus.SOURCE_*} word).
 *
 * @param usdPerHour the price per hour in USD
 * @param source spot-price-history, price-list or spec
 * @param upperBound true when the machine may cost less (a spot instance priced from the on-demand list)
 */
public record Price(double usdPerHour, String source, boolean upperBound) {
  /** What {@code seconds} of the machine cost at this price. */
  public double forSeconds(double seconds) {
    return usdPerHour * Math.max(0, seconds) / 3600.0;
  }
}
