package dev.trainingjob.operator.cost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PriceListTest {
  @TempDir
  Path tmp;

  @Test
  void theEstimateIsThePriceTimesTheHoursAndSpotIsAnUpperBound() {
    Instant launched = Instant.parse("2026-11-26T08:00:00Z");
    var cost = PriceList.bundled().estimate("g5.xlarge", false, launched, launched.plus(Duration.ofMinutes(90))).orElseThrow();
    assertThat(cost.hourlyUSD).isEqualTo(1.006);
    assertThat(cost.estimatedUSD).isEqualTo(1.51);
    assertThat(cost.summary).isEqualTo("$1.51");
    var spot = PriceList.bundled().estimate("g5.xlarge", true, launched, launched.plus(Duration.ofMinutes(90))).orElseThrow();
    assertThat(spot.upperBound).isTrue();
    assertThat(spot.summary).isEqualTo("<=$1.51");
    // the operator's own machine adds nothing; an unknown type has no estimate at all
    assertThat(PriceList.bundled().estimate("local", false, launched, launched.plus(Duration.ofHours(1))).orElseThrow().summary)
        .isEqualTo("$0.00");
    assertThat(PriceList.bundled().estimate("x9.mega", false, launched, launched.plus(Duration.ofHours(1)))).isEmpty();
  }

  @Test
  void anOperatorsListOverridesAndExtendsTheBundledOne() throws Exception {
    Path mine = Files.writeString(tmp.resolve("prices.properties"), "g5.xlarge=0.9\nmy.gpu=2.5\n");
    PriceList prices = PriceList.load(mine);
    assertThat(prices.hourly("g5.xlarge")).contains(0.9);
    assertThat(prices.hourly("my.gpu")).contains(2.5);
    assertThat(prices.hourly("g6.xlarge")).contains(0.8048);
    Files.writeString(mine, "g5.xlarge=cheap\n");
    assertThatThrownBy(() -> PriceList.load(mine)).hasMessageContaining("g5.xlarge").hasMessageContaining("cheap");
  }
}
