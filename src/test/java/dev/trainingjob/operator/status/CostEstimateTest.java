package dev.trainingjob.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.api.InstanceStatus;
import dev.trainingjob.operator.api.Timings;
import dev.trainingjob.operator.api.TrainingJobStatus;
import dev.trainingjob.operator.cost.PriceList;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class CostEstimateTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private final PriceList prices = PriceList.bundled();

  private static TrainingJobStatus launched(String type) {
    TrainingJobStatus s = new TrainingJobStatus();
    s.instance = new InstanceStatus();
    s.instance.type = type;
    s.instance.launchedAt = T0.toString();
    return s;
  }

  @Test
  void aRunningMachineCostsItsHourlyPriceUntilNow() {
    TrainingJobStatus s = launched("g5.xlarge");
    double hourly = prices.hourly("g5.xlarge").orElseThrow();

    var billed = CostEstimate.apply(s, prices, T0.plusSeconds(1800)).orElseThrow();

    assertThat(billed.until()).isEqualTo(T0.plusSeconds(1800));
    assertThat(s.cost).isNotNull();
    assertThat(s.cost.estimatedUSD).isCloseTo(hourly / 2, org.assertj.core.data.Offset.offset(0.01));
  }

  @Test
  void aReleasedMachineStopsCosting() {
    TrainingJobStatus s = launched("g5.xlarge");
    s.timings = new Timings();
    s.timings.released = T0.plusSeconds(3600).toString();

    var billed = CostEstimate.apply(s, prices, T0.plusSeconds(7200)).orElseThrow();

    assertThat(billed.until()).isEqualTo(T0.plusSeconds(3600));
  }

  @Test
  void noMachineOrAnUnknownTypeGivesNoCost() {
    assertThat(CostEstimate.apply(new TrainingJobStatus(), prices, T0)).isEmpty();
    TrainingJobStatus s = launched("no-such.type");
    assertThat(CostEstimate.apply(s, prices, T0.plusSeconds(60))).isPresent();
    assertThat(s.cost).isNull();
  }
}
