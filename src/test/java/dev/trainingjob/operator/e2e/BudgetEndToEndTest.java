package dev.trainingjob.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.api.ComputeSpec;
import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.LimitsSpec;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.status.Conditions;
import dev.trainingjob.operator.support.Jobs;
import dev.trainingjob.operator.support.Kubectl;
import dev.trainingjob.operator.support.OperatorHarness;
import dev.trainingjob.operator.support.RecordingProvider;
import dev.trainingjob.operator.support.ScriptedRemoteHosts;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A namespace budget as a user meets it: deploy/examples/budget.yaml applied with the real kubectl, three jobs whose worst
 * case is $4.00 each under its $10.00, the operator running them on a recording provider.
 */
class BudgetEndToEndTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final List<String> JOBS = List.of("first", "second", "third");
  @TempDir
  Path tmp;
  private final RecordingProvider provider = new RecordingProvider("local");
  private OperatorHarness harness;
  private Kubectl kubectl;

  @BeforeEach
  void start() throws Exception {
    provider.looksBeforeRunning = Integer.MAX_VALUE; // the machines boot until the test has looked at the waiting job
    harness = new OperatorHarness("local", List.of(provider), new ScriptedRemoteHosts());
    kubectl = new Kubectl(harness.api.writeKubeconfig(tmp.resolve("kubeconfig")));
  }

  @AfterEach
  void stop() {
    harness.close();
  }

  private static TrainingJob job(String name) {
    TrainingJob job = Jobs.simple(name);
    job.getSpec().compute = new ComputeSpec();
    job.getSpec().compute.local = new ComputeSpec.LocalSpec();
    job.getSpec().compute.local.hourlyPriceUSD = 36.0; // a cent a second
    job.getSpec().limits = new LimitsSpec();
    job.getSpec().limits.maxCostUSD = 4.0;
    return job;
  }

  private boolean admitted(String name) {
    TrainingJob job = harness.get(name);
    return job.getStatus() != null && job.getStatus().budget != null;
  }

  private boolean waiting(String name) {
    TrainingJob job = harness.get(name);
    return job.getStatus() != null && Conditions.isTrue(job.getStatus(), ConditionType.BUDGET_EXHAUSTED);
  }

  private boolean settled(String name) {
    TrainingJob job = harness.get(name);
    return admitted(name) && Boolean.TRUE.equals(job.getStatus().budget.settled);
  }

  /** The figures of `kubectl get tjb team`: limit, spent, reserved, remaining. */
  private double[] row() {
    String table = kubectl.ok("get", "tjb");
    assertThat(table.lines().findFirst().orElseThrow()).containsPattern("NAME\\s+LIMIT\\s+SPENT\\s+RESERVED\\s+REMAINING\\s+AGE");
    Matcher m = Pattern.compile("team\\s+\\$(\\S+)\\s+\\$(\\S+)\\s+\\$(\\S+)\\s+\\$(\\S+)\\s+\\S+").matcher(table);
    assertThat(m.find()).as(table).isTrue();
    return new double[] {Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2)), Double.parseDouble(m.group(3)),
        Double.parseDouble(m.group(4))};
  }

  @Test
  void twoJobsRunUnderTheBudgetTheThirdWaitsUnlaunchedAndRunsOnceOneIsSettled() throws Exception {
    kubectl.ok("apply", "-f", "deploy/examples/budget.yaml");
    // the operator fills in the budget's figures as soon as it sees it
    await().atMost(WAIT).until(() -> {
      var team = harness.client().resources(dev.trainingjob.operator.api.TrainingBudget.class).inNamespace(OperatorHarness.NS)
          .withName("team").get();
      return team != null && team.getStatus() != null && team.getStatus().shown != null;
    });
    harness.create(job("first"));
    harness.create(job("second"));
    await().atMost(WAIT).until(() -> admitted("first") && admitted("second"));
    harness.create(job("third"));
    await().atMost(WAIT).until(() -> waiting("third"));

    assertThat(provider.calls("default/third")).as("nothing was asked of the provider for the waiting job").isEmpty();
    assertThat(row()).containsExactly(10.0, 0.0, 8.0, 2.0);
    assertThat(kubectl.ok("get", "tj", "third")).containsPattern("third\\s+Pending");
    assertThat(kubectl.ok("describe", "tj", "third")).contains("BudgetExhausted")
        .contains("the job's worst case $4.00 (spec.limits.maxCostUSD) does not fit in the $2.00 that remains");
    assertThat(harness.operator.meters().scrape())
        .contains("trainingjob_budget_reserved_usd{budget=\"team\",namespace=\"default\"} 8.0")
        .contains("trainingjob_budget_limit_usd{budget=\"team\",namespace=\"default\"} 10.0")
        .contains("trainingjob_budget_spent_usd{budget=\"team\",namespace=\"default\"} 0.0");
    // the series the dashboard's budget panel asks for are all there
    var dashboard = new com.fasterxml.jackson.databind.ObjectMapper().readTree(Path.of("deploy/grafana/trainingjob-operator-dashboard.json").toFile());
    String scraped = harness.operator.meters().scrape();
    dashboard.findValues("expr").forEach(e -> {
      Matcher m = Pattern.compile("\\btrainingjob_budget_[a-z_]+").matcher(e.asText());
      while (m.find()) {
        assertThat(scraped).as(e.asText()).contains(m.group() + "{");
      }
    });

    provider.looksBeforeRunning = 2; // the machines come up; the first two jobs run to their end
    await().atMost(WAIT).until(() -> admitted("third"));
    // the job that made room is settled too (its status is written after the budget that admitted the third: awaited)
    await().atMost(WAIT).until(() -> JOBS.subList(0, 2).stream().anyMatch(this::settled));
    await().atMost(WAIT).until(() -> JOBS.stream().allMatch(this::settled));
    JOBS.forEach(name -> assertThat(harness.get(name).getStatus().phase).isEqualTo(Phase.Succeeded));

    double spent = JOBS.stream().mapToDouble(name -> harness.get(name).getStatus().cost.totalUSD).sum();
    double[] row = row();
    assertThat(row[1]).as("spent: what the three cost").isCloseTo(spent, org.assertj.core.data.Offset.offset(0.011));
    assertThat(row[2]).as("reserved").isZero();
    assertThat(row[0] - row[1] - row[3]).as("remaining").isCloseTo(0, org.assertj.core.data.Offset.offset(0.001));
    assertThat(provider.count("default/third", "ensure")).isPositive();
  }
}
