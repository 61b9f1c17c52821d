package dev.trainingjob.operator.cost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PriceListTest {
  @TempDir
  Path tmp;

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
