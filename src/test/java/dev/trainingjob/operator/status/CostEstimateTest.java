package dev.trainingjob.operator.status;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.trainingjob.operator.api.AttemptStatus;
import dev.trainingjob.operator.api.ComputeSpec;
import dev.trainingjob.operator.api.CostStatus;
import dev.trainingjob.operator.api.InstanceStatus;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.ProgressStatus;
import dev.trainingjob.operator.api.Timings;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.api.TrainingJobSpec;
import dev.trainingjob.operator.api.TrainingJobStatus;
import dev.trainingjob.operator.cost.JobPrices;
import dev.trainingjob.operator.cost.PriceList;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CostEstimateTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private final PriceList list = PriceList.bundled();
  private final JobPrices prices = JobPrices.of(list);

  private static TrainingJob launched(String type) {
    TrainingJob job = new TrainingJob();
    job.setSpec(new TrainingJobSpec());
    job.getSpec().compute = new ComputeSpec();
    job.getSpec().compute.ec2 = new ComputeSpec.Ec2Spec();
    job.getSpec().compute.ec2.instanceType = type;
    TrainingJobStatus s = new TrainingJobStatus();
    s.instance = new InstanceStatus();
    s.instance.id = "i-1";
    s.instance.type = type;
    s.instance.launchedAt = T0.toString();
    job.setStatus(s);
    return job;
  }

  @Test
  void aRunningMachineCostsItsListPriceUntilNowAndSaysWhereThePriceCameFrom() {
    TrainingJob job = launched("g5.xlarge");
    double hourly = list.hourly("g5.xlarge").orElseThrow();

    var billed = CostEstimate.apply(job, prices, T0.plusSeconds(1800)).orElseThrow();

    assertThat(billed.until()).isEqualTo(T0.plusSeconds(1800));
    CostStatus cost = job.getStatus().cost;
    assertThat(cost.totalUSD).isCloseTo(hourly / 2, within(0.01));
    assertThat(cost.pricePerHourUSD).isEqualTo(hourly);
    assertThat(cost.priceSource).isEqualTo("price-list");
    assertThat(cost.summary).isEqualTo("$0.50");
    assertThat(cost.projectedTotalUSD).as("no ETA, no projection").isNull();
  }

  @Test
  void aSpotInstanceIsPricedFromTheMarketWhenItCanBeToldElseTheListIsAnUpperBound() {
    TrainingJob job = launched("g5.xlarge");
    job.getStatus().instance.spot = true;

    CostEstimate.apply(job, prices, T0.plusSeconds(3600));
    assertThat(job.getStatus().cost.upperBound).isTrue();
    assertThat(job.getStatus().cost.summary).isEqualTo("<=$1.01");

    var market = new JobPrices(list, (id, type) -> "i-1".equals(id) ? Optional.of(0.4) : Optional.empty());
    CostEstimate.apply(job, market, T0.plusSeconds(3600));
    assertThat(job.getStatus().cost.priceSource).isEqualTo("spot-price-history");
    assertThat(job.getStatus().cost.pricePerHourUSD).isEqualTo(0.4);
    assertThat(job.getStatus().cost.upperBound).isNull();
    assertThat(job.getStatus().cost.summary).isEqualTo("$0.40");
  }

  @Test
  void aHostOrLocalMachineCostsWhatItsSpecSays() {
    TrainingJob job = launched("local");
    job.getSpec().compute.ec2 = null;
    job.getSpec().compute.local = new ComputeSpec.LocalSpec();
    CostEstimate.apply(job, prices, T0.plusSeconds(60));
    assertThat(job.getStatus().cost.totalUSD).as("the operator's own machine, unpriced, costs nothing").isEqualTo(0.0);

    job.getSpec().compute.local.hourlyPriceUSD = 3600.0;
    CostEstimate.apply(job, prices, T0.plusSeconds(60));
    assertThat(job.getStatus().cost.totalUSD).isEqualTo(60.0);
    assertThat(job.getStatus().cost.priceSource).isEqualTo("spec");
  }

  @Test
  void theProjectionIsCostSoFarPlusTheEtaAtThePrice() {
    TrainingJob job = launched("local");
    job.getSpec().compute.ec2 = null;
    job.getSpec().compute.local = new ComputeSpec.LocalSpec();
    job.getSpec().compute.local.hourlyPriceUSD = 36.0; // a cent a second
    job.getStatus().progress = new ProgressStatus();
    job.getStatus().progress.eta = T0.plusSeconds(400).toString();

    CostEstimate.apply(job, prices, T0.plusSeconds(100));

    assertThat(job.getStatus().cost.totalUSD).isEqualTo(1.0);
    assertThat(job.getStatus().cost.projectedTotalUSD).isEqualTo(4.0);
    assertThat(job.getStatus().cost.projected).isEqualTo("$4.00");
  }

  @Test
  void earlierMachinesAddToTheTotalAndAReleasedMachineStopsCosting() {
    TrainingJob job = launched("g5.xlarge");
    TrainingJobStatus s = job.getStatus();
    s.timings = new Timings();
    s.timings.released = T0.plusSeconds(3600).toString();
    AttemptStatus earlier = new AttemptStatus();
    earlier.instanceId = "i-0";
    earlier.costUSD = 2.0;
    s.attempts = new ArrayList<>(List.of(earlier));
    s.phase = Phase.Succeeded;

    var billed = CostEstimate.apply(job, prices, T0.plusSeconds(7200)).orElseThrow();

    assertThat(billed.until()).isEqualTo(T0.plusSeconds(3600));
    assertThat(s.cost.totalUSD).isEqualTo(3.01);
    assertThat(s.cost.projectedTotalUSD).as("an ended job's projection is its total").isEqualTo(3.01);
  }

  @Test
  void noMachineOrAnUnknownTypeGivesNoCost() {
    TrainingJob none = launched("g5.xlarge");
    none.getStatus().instance = null;
    assertThat(CostEstimate.apply(none, prices, T0)).isEmpty();
    TrainingJob unknown = launched("no-such.type");
    assertThat(CostEstimate.apply(unknown, prices, T0.plusSeconds(60))).isEmpty();
    assertThat(unknown.getStatus().cost).isNull();
  }
}
