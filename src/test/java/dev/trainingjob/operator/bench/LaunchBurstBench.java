package dev.trainingjob.operator.bench;

import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.fake.ec2.Ec2Harness;
import dev.trainingjob.operator.fake.ec2.FakeEc2;
import dev.trainingjob.operator.fake.ec2.UnreachableHosts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * A burst of launches against the fake EC2 with EC2's API limits on (AWS's default token buckets, real time): N jobs
 * created at once, counted until every instance runs. Run with bench/launch-burst.sh; reports RequestLimitExceeded answers
 * (the goal: none), the time until all instances run next to the least EC2's RunInstances bucket allows, and the calls
 * per action. The instances run without booting and nobody logs in: the point is the EC2 calls.
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class LaunchBurstBench {
  /** The production default poll interval: jobs past their launch look at EC2 (the shared listing) this often. */
  static final Duration POLL = Duration.ofSeconds(10);
  static final Duration PENDING = Duration.ofMillis(300);

  @Test
  void aBurstOfLaunchesMeetsNoThrottling() throws Exception {
    List<Integer> sizes = Arrays.stream(System.getProperty("bench.jobs", "50,500").split(",")).map(String::trim)
        .map(Integer::parseInt).toList();
    StringBuilder report = new StringBuilder();
    report.append("jobs  RequestLimitExceeded  all-running-s  least-by-limits-s  launches/s  SDK-retries  listings/interval"
        + "  paced-waits  calls by action\n");
    for (int jobs : sizes) {
      report.append(run(jobs)).append('\n');
    }
    System.out.println(report);
    Files.writeString(Path.of("target/bench-launch-burst.txt"), report.toString());
  }

  private static String run(int jobs) throws Exception {
    Path dir = Files.createTempDirectory("bench-burst");
    try (Ec2Harness h = new Ec2Harness(dir)) {
      h.fake.delays(PENDING, Duration.ofMillis(300)).bootless().throttleAsEc2();
      h.remoteHosts = new UnreachableHosts();
      h.config = h.config.with(c -> {
        c.pollInterval = POLL;
        c.sshReadyTimeout = Duration.ofHours(1); // the jobs wait for an sshd that never comes, past the bench's end
      });
      h.startOperator();
      Instant start = Instant.now();
      IntStream.range(0, jobs).forEach(i -> h.create(Ec2Harness.job("burst-" + i, "print('hi')\n")));
      await().atMost(Duration.ofSeconds(60 + jobs)).pollInterval(Duration.ofMillis(200))
          .until(() -> h.fake.instances().stream().filter(i -> "running".equals(i.state())).count() == jobs);
      Instant lastLaunch = h.fake.instances().stream().map(i -> i.launchTime).max(Instant::compareTo).orElseThrow();
      Instant firstLaunch = h.fake.instances().stream().map(i -> i.launchTime).min(Instant::compareTo).orElseThrow();
      double allRunning = Duration.between(start, lastLaunch.plus(PENDING)).toMillis() / 1000.0;
      List<TrainingJob> items = h.client().resources(TrainingJob.class).inNamespace(Ec2Harness.NS).list().getItems();
      long failed = items.stream().filter(j -> j.getStatus() != null && j.getStatus().phase == Phase.Failed).count();
      if (failed > 0) {
        throw new AssertionError(failed + " jobs failed");
      }
      List<FakeEc2.Request> requests = h.fake.requests();
      long throttled = requests.stream().filter(r -> "RequestLimitExceeded".equals(r.errorCode())).count();
      long retries = requests.stream().filter(r -> r.attempt() > 1).count();
      Map<String, Long> byAction = requests.stream().collect(Collectors.groupingBy(FakeEc2.Request::action, TreeMap::new,
          Collectors.counting()));
      long listings = requests.stream().filter(r -> r.action().equals("DescribeInstances") && !r.params().containsKey("InstanceId.1"))
          .count();
      double intervals = Duration.between(start, Instant.now()).toMillis() / (double) POLL.toMillis();
      // EC2's RunInstances bucket: 5 at once, then 2 a second; nothing can launch N sooner
      double least = Math.max(0, jobs - 5) / 2.0;
      double rate = jobs < 2 ? 0 : (jobs - 1) / (Duration.between(firstLaunch, lastLaunch).toMillis() / 1000.0);
      double pacedSeconds = h.meters.find("trainingjob.aws.api.paced").timers().stream()
          .mapToDouble(t -> t.totalTime(java.util.concurrent.TimeUnit.MILLISECONDS) / 1000.0).sum();
      long pacedCount = h.meters.find("trainingjob.aws.api.paced").timers().stream().mapToLong(t -> t.count()).sum();
      return String.format(Locale.ROOT, "%4d  %20d  %13.1f  %17.1f  %10.2f  %11d  %17.2f  %4d (%.1fs)  %s", jobs, throttled,
          allRunning, least, rate, retries, listings / intervals, pacedCount, pacedSeconds, byAction);
    }
  }

}
