package dev.trainingjob.operator.bench;

import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.fake.ec2.Ec2Harness;
import dev.trainingjob.operator.fake.ec2.FakeEc2;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * How many EC2 listing calls running jobs cost: N jobs on fake instances, counted over a window.
 * Run with bench/describe-economy.sh; reports counts and ratios, asserts nothing.
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class DescribeEconomyBench {
  static final Duration WINDOW = Duration.ofSeconds(10);

  @Test
  void listingCallsPerIntervalAsJobsGrow() throws Exception {
    StringBuilder report = new StringBuilder(
        "while        jobs  listings  intervals  listings/interval  listings/job/interval  by-id describes  all EC2 calls\n");
    for (int jobs : List.of(1, 4, 8)) {
      Path dir = Files.createTempDirectory("bench-ec2");
      try (Ec2Harness h = new Ec2Harness(dir)) {
        // instances stay pending for a while: the jobs wait in Provisioning, where they look at EC2
        h.fake.delays(Duration.ofSeconds(25), Duration.ofMillis(300));
        h.startOperator();
        IntStream.range(0, jobs).forEach(i -> h.create(Ec2Harness.job("bench-" + i, "import time\ntime.sleep(600)\n")));
        await().atMost(Duration.ofSeconds(60)).until(() -> IntStream.range(0, jobs).allMatch(i -> h.phase("bench-" + i) == Phase.Provisioning
            && h.get("bench-" + i).getStatus().instance != null));
        measure("provisioning", jobs, h, report);
        await().atMost(Duration.ofSeconds(120)).until(() -> IntStream.range(0, jobs).allMatch(i -> h.phase("bench-" + i) == Phase.Running));
        measure("running", jobs, h, report);
      }
    }
    System.out.println(report);
    Files.writeString(Path.of("target/bench-describe-economy.txt"), report.toString());
  }

  private static void measure(String phase, int jobs, Ec2Harness h, StringBuilder report) throws InterruptedException {
    long before = listings(h.fake);
    long byIdBefore = byId(h.fake);
    long allBefore = h.fake.requests().size();
    Thread.sleep(WINDOW.toMillis()); // a measuring window, not a wait for a condition
    long calls = listings(h.fake) - before;
    long byIdCalls = byId(h.fake) - byIdBefore;
    long all = h.fake.requests().size() - allBefore;
    double intervals = (double) WINDOW.toMillis() / h.config.pollInterval().toMillis();
    report.append(String.format(java.util.Locale.ROOT, "%-12s %4d  %8d  %9.0f  %17.2f  %21.3f  %15d  %13d%n", phase, jobs, calls,
        intervals, calls / intervals, calls / intervals / jobs, byIdCalls, all));
  }

  /** DescribeInstances naming instances (one job's own look): these grow with the jobs, so they must stay rare. */
  private static long byId(FakeEc2 fake) {
    return fake.requests("DescribeInstances").stream().filter(r -> r.params().containsKey("InstanceId.1")).count();
  }

  private static long listings(FakeEc2 fake) {
    return fake.requests("DescribeInstances").stream().filter(r -> !r.params().containsKey("InstanceId.1")).count();
  }
}
