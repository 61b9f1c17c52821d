package dev.trainingjob.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainingjob.operator.Assembly;
import dev.trainingjob.operator.OperatorRuntime;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.embedded.EmbeddedKubernetes;
import dev.trainingjob.operator.support.Jobs;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** /metrics scraped and parsed while a job runs on the local provider; /healthz and /readyz. */
class MetricsEndpointTest {
  static final String SCRIPT = """
      import json, os, time
      for epoch in range(1, 9):
          time.sleep(0.4)
          print(f"Epoch {epoch}/8 - loss: {1.0 / epoch:.4f}", flush=True)
      """;
  private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*\\})?\\s+(\\S+)");

  @TempDir
  Path tmp;
  EmbeddedKubernetes api;
  OperatorRuntime operator;
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() {
    api = new EmbeddedKubernetes().start(0);
    OperatorConfig config = OperatorConfig.defaults().with(c -> {
      c.defaultProvider = "local";
      c.localProvider = true;
      c.pollInterval = c.probeInterval = Duration.ofMillis(200);
      c.outputDir = tmp.resolve("outputs");
      c.localWorkRoot = tmp.resolve("local");
      c.progressWriteInterval = Duration.ofMillis(500);
      c.metricsPort = 0;
    });
    operator = Assembly.start(api.client(), config);
  }

  @AfterEach
  void stop() {
    operator.close();
    api.close();
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + operator.metricsPort() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** series (name + labels) → value, from the Prometheus text format. */
  private Map<String, Double> scrape() throws Exception {
    HttpResponse<String> r = get("/metrics");
    assertThat(r.statusCode()).isEqualTo(200);
    Map<String, Double> series = new HashMap<>();
    for (String line : r.body().split("\n")) {
      Matcher m = SAMPLE.matcher(line);
      if (!line.startsWith("#") && m.find()) {
        series.put(m.group(1) + (m.group(2) == null ? "" : m.group(2)), Double.parseDouble(m.group(3)));
      }
    }
    return series;
  }

  private static double value(Map<String, Double> series, String name, String label) {
    return series.entrySet().stream().filter(e -> e.getKey().startsWith(name + "{") && e.getKey().contains(label))
        .mapToDouble(Map.Entry::getValue).sum();
  }

  private Phase phase(String name) {
    TrainingJob job = api.client().resources(TrainingJob.class).inNamespace("default").withName(name).get();
    return job == null || job.getStatus() == null ? null : job.getStatus().phase;
  }

  @Test
  void seriesAppearAndChangeAsAJobRuns() throws Exception {
    await().atMost(Duration.ofSeconds(30)).until(() -> get("/readyz").statusCode() == 200);
    assertThat(get("/healthz").statusCode()).isEqualTo(200);

    api.client().resource(Jobs.inline("measured", "train.py", Map.of("train.py", SCRIPT))).inNamespace("default").create();
    await().atMost(Duration.ofSeconds(60)).until(() -> phase("measured") == Phase.Running);
    await().atMost(Duration.ofSeconds(30)).until(() -> value(scrape(), "trainingjob_jobs", "phase=\"Running\"") == 1.0);
    double reconcilesWhileRunning = value(scrape(), "trainingjob_reconcile_duration_seconds_count", "outcome=\"ok\"");

    await().atMost(Duration.ofSeconds(60)).until(() -> phase("measured") == Phase.Succeeded);
    await().atMost(Duration.ofSeconds(30)).until(() -> value(scrape(), "trainingjob_jobs", "phase=\"Succeeded\"") == 1.0);
    Map<String, Double> after = scrape();
    assertThat(value(after, "trainingjob_jobs", "phase=\"Running\"")).isZero();
    assertThat(value(after, "trainingjob_reconcile_duration_seconds_count", "outcome=\"ok\"")).isGreaterThan(reconcilesWhileRunning);
    assertThat(value(after, "trainingjob_probe_duration_seconds_count", "provider=\"local\"")).isPositive();
    assertThat(value(after, "trainingjob_instance_seconds_total", "instance_type=\"local\"")).isPositive();
    assertThat(after.keySet()).anyMatch(k -> k.startsWith("operator_sdk_reconciliations_started_total"));
    // the reconcile's slow tail, and what the operator itself costs
    assertThat(value(after, "trainingjob_reconcile_duration_seconds", "quantile=\"0.99\"")).isPositive();
    assertThat(value(after, "trainingjob_probe_duration_seconds", "quantile=\"0.5\"")).isPositive();
    assertThat(value(after, "jvm_memory_used_bytes", "area=\"heap\"")).isPositive();
    assertThat(after.get("jvm_threads_live_threads")).isPositive();
    assertThat(after.keySet()).anyMatch(k -> k.startsWith("process_cpu_usage"));
    // Events are written beside the reconciles: none was dropped for this one job
    assertThat(after.keySet()).anyMatch(k -> k.startsWith("trainingjob_events_dropped_total{") && k.contains("recorder=\"operator\""));
    assertThat(value(after, "trainingjob_events_dropped_total", "recorder=\"operator\"")).isZero();

    // the Grafana dashboard asks only for series the operator exports (the ec2 ones are checked by the ec2 tests)
    Set<String> names = new HashSet<>();
    after.keySet().forEach(k -> names.add(k.replaceAll("\\{.*", "").replaceAll("_(sum|count|max|total)$", "")));
    var dashboard = new ObjectMapper().readTree(Path.of("deploy/grafana/trainingjob-operator-dashboard.json").toFile());
    Set<String> asked = new HashSet<>();
    dashboard.findValues("expr").forEach(e -> {
      Matcher m = Pattern.compile("\\b(trainingjob_[a-z_]+|operator_sdk_[a-z_]+)").matcher(e.asText());
      while (m.find()) {
        asked.add(m.group(1).replaceAll("_(sum|count|max|total)$", ""));
      }
    });
    asked.removeAll(Set.of("trainingjob_aws_api_calls", "trainingjob_orphans_terminated", "trainingjob_estimated_cost_usd",
        "trainingjob_ssh_connect_failures", "operator_sdk_reconciliations_failed",
        // a namespace with a TrainingBudget has them: BudgetEndToEndTest checks them
        "trainingjob_budget_limit_usd", "trainingjob_budget_spent_usd", "trainingjob_budget_reserved_usd"));
    assertThat(names).containsAll(asked);

    operator.close();
    assertThatThrownBy(() -> get("/healthz")).isInstanceOf(java.io.IOException.class);
  }
}
