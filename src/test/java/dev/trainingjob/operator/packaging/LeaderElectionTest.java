package dev.trainingjob.operator.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.OperatorRuntime;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.embedded.EmbeddedKubernetes;
import dev.trainingjob.operator.support.Jobs;
import dev.trainingjob.operator.support.RecordingProvider;
import dev.trainingjob.operator.support.ScriptedRemoteHosts;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Two operator replicas against one API: one reconciles; when it stops, the other takes over. */
class LeaderElectionTest {
  final EmbeddedKubernetes api = new EmbeddedKubernetes().start(0);
  Replica a;
  Replica b;

  record Replica(String name, RecordingProvider provider, OperatorRuntime runtime) {}

  Replica start(String name) {
    OperatorConfig config = OperatorConfig.defaults().with(c -> {
      c.defaultProvider = "local";
      c.pollInterval = c.probeInterval = Duration.ofMillis(200);
      c.metricsPort = -1;
      c.leaderElection.enabled = true;
      c.leaderElection.leaseNamespace = "default";
      c.leaderElection.identity = name;
      c.leaderElection.leaseDuration = Duration.ofSeconds(3);
      c.leaderElection.renewDeadline = Duration.ofSeconds(2);
      c.leaderElection.retryPeriod = Duration.ofMillis(500);
      c.leaderElection.exitOnStopLeading = false;
    });
    RecordingProvider provider = new RecordingProvider("local");
    return new Replica(name, provider, OperatorRuntime.start(api.client(), config, List.of(provider), new ScriptedRemoteHosts(), List.of()));
  }

  @AfterEach
  void stop() {
    for (Replica r : new Replica[] {a, b}) {
      if (r != null) {
        r.runtime().close();
      }
    }
    api.close();
  }

  private Phase phase(String name) {
    TrainingJob job = api.client().resources(TrainingJob.class).inNamespace("default").withName(name).get();
    return job == null || job.getStatus() == null ? null : job.getStatus().phase;
  }

  private Replica leader() {
    return a.runtime().leadership().isLeading() ? a : b.runtime().leadership().isLeading() ? b : null;
  }

  @Test
  void oneReplicaReconcilesAndTheOtherTakesOverWhenItStops() {
    a = start("replica-a");
    b = start("replica-b");
    await().atMost(Duration.ofSeconds(30)).until(() -> leader() != null);
    Replica first = leader();
    Replica second = first == a ? b : a;
    assertThat(second.runtime().leadership().isLeading()).isFalse();
    Lease lease = api.client().leases().inNamespace("default").withName("trainingjob-operator").get();
    assertThat(lease.getSpec().getHolderIdentity()).isEqualTo(first.name());

    api.client().resource(Jobs.simple("before")).inNamespace("default").create();
    await().atMost(Duration.ofSeconds(60)).until(() -> phase("before") == Phase.Succeeded);
    assertThat(first.provider().calls("default/before")).isNotEmpty();
    assertThat(second.provider().calls("default/before")).as("the replica that does not lead does nothing").isEmpty();

    first.runtime().close();
    await().atMost(Duration.ofSeconds(30)).until(() -> second.runtime().leadership().isLeading());

    api.client().resource(Jobs.simple("after")).inNamespace("default").create();
    await().atMost(Duration.ofSeconds(60)).until(() -> phase("after") == Phase.Succeeded);
    assertThat(second.provider().calls("default/after")).isNotEmpty();
    assertThat(first.provider().calls("default/after")).isEmpty();
    assertThat(api.client().leases().inNamespace("default").withName("trainingjob-operator").get().getSpec().getHolderIdentity())
        .isEqualTo(second.name());
  }
}
