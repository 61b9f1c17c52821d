package dev.trainingjob.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.status.Conditions;
import dev.trainingjob.operator.support.Jobs;
import dev.trainingjob.operator.support.OperatorHarness;
import dev.trainingjob.operator.support.RecordingProvider;
import dev.trainingjob.operator.support.ScriptedRemoteHosts;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Objects the operator cannot read (what an API server that does not enforce the schema, or a
 * newer CRD, lets through) end InvalidSpec naming the field, and never stop the operator: a healthy
 * job beside them still succeeds, and each of them can be deleted.
 */
class UnreadableObjectsTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final Map<String, String> BAD_SPECS = Map.of(
      "unknown-provider", "{\"script\":{\"entrypoint\":\"t.py\",\"inline\":{\"t.py\":\"1\"}},\"compute\":{\"gcp\":{}}}",
      "number-out-of-range", "{\"script\":{\"entrypoint\":\"t.py\",\"inline\":{\"t.py\":\"1\"}},\"limits\":{\"maxRuntimeSeconds\":1e20}}",
      "wrong-type", "{\"script\":{\"entrypoint\":{\"a\":1}}}",
      "unknown-top-level", "{\"script\":{\"entrypoint\":\"t.py\",\"inline\":{\"t.py\":\"1\"}},\"schedule\":\"@daily\"}");
  private static final Map<String, String> FIELDS = Map.of(
      "unknown-provider", "spec.compute.gcp", "number-out-of-range", "spec.limits.maxRuntimeSeconds",
      "wrong-type", "spec.script.entrypoint", "unknown-top-level", "spec.schedule");

  private OperatorHarness harness;

  @BeforeEach
  void start() {
    harness = new OperatorHarness("local", List.of(new RecordingProvider("local")), new ScriptedRemoteHosts());
  }

  @AfterEach
  void stop() {
    harness.close();
  }

  /** Stored as written, as an API server without the CRD's schema would (status is the operator's: TolerantReadersTest reads it). */
  private void createRaw(String name, String specJson) {
    String json = """
        {"apiVersion":"trainingjob.dev/v1alpha1","kind":"TrainingJob","metadata":{"name":"%s","namespace":"default"},
         "spec":%s}""".formatted(name, specJson);
    harness.client().genericKubernetesResources("trainingjob.dev/v1alpha1", "TrainingJob").inNamespace(OperatorHarness.NS)
        .resource(Serialization.unmarshal(json, GenericKubernetesResource.class)).create();
  }

  @Test
  void unreadableObjectsEndInvalidSpecNamingTheFieldWhileAHealthyJobSucceeds() {
    BAD_SPECS.forEach((name, spec) -> createRaw(name, spec));
    harness.create(Jobs.simple("healthy"));

    await().atMost(WAIT).until(() -> harness.get("healthy").getStatus() != null
        && harness.get("healthy").getStatus().phase == Phase.Succeeded);
    await().atMost(WAIT).until(() -> BAD_SPECS.keySet().stream().allMatch(n -> phase(n) == Phase.Failed));
    for (String name : BAD_SPECS.keySet()) {
      var failed = Conditions.find(harness.get(name).getStatus(), ConditionType.FAILED);
      assertThat(failed.reason).isEqualTo("InvalidSpec");
      assertThat(failed.message).as(name).contains(FIELDS.get(name));
    }
    // the user's spec is kept as written: the operator writes status only
    var stored = harness.client().genericKubernetesResources("trainingjob.dev/v1alpha1", "TrainingJob")
        .inNamespace(OperatorHarness.NS).withName("unknown-provider").get();
    assertThat(Serialization.asJson(stored.getAdditionalProperties().get("spec"))).contains("gcp");
    assertThat(harness.operator.isHealthy()).isTrue();
  }

  @Test
  void anUnreadableJobCanBeDeleted() {
    createRaw("doomed", BAD_SPECS.get("unknown-provider"));
    await().atMost(WAIT).until(() -> phase("doomed") == Phase.Failed);

    harness.client().resources(TrainingJob.class).inNamespace(OperatorHarness.NS).withName("doomed").delete();

    await().atMost(WAIT).until(() -> harness.get("doomed") == null);
  }

  private Phase phase(String name) {
    TrainingJob job = harness.get(name);
    return job == null || job.getStatus() == null ? null : job.getStatus().phase;
  }
}
