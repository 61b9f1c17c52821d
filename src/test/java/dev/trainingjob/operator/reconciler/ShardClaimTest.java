package dev.trainingjob.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.Shard;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.api.TrainingJobStatus;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.support.EmbeddedApi;
import dev.trainingjob.operator.support.Jobs;
import dev.trainingjob.operator.support.RecordingProvider;
import dev.trainingjob.operator.support.ScriptedRemoteHosts;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A shard takes a job with a status write checked against the resourceVersion it read, before it does anything for it: a
 * relabel between the read and the take loses the take (no launch), and a job taken by one shard is left alone by another.
 */
class ShardClaimTest {
  @RegisterExtension
  static final EmbeddedApi API = new EmbeddedApi();

  private static TrainingJob created(String name, String shard) {
    TrainingJob job = Jobs.simple(name);
    if (shard != null) {
      job.getMetadata().setLabels(new HashMap<>(Map.of(Shard.LABEL, shard)));
    }
    return API.client().resource(job).create();
  }

  private static TrainingJob stored(String name) {
    return API.client().resources(TrainingJob.class).inNamespace("default").withName(name).get();
  }

  @Test
  void aJobRelabelledBetweenTheReadAndTheTakeIsNotTaken() throws Exception {
    TrainingJob read = created("raced", "gpu"); // what the gpu shard's informer handed over
    API.client().resources(TrainingJob.class).inNamespace("default").withName("raced").edit(j -> {
      j.getMetadata().getLabels().put(Shard.LABEL, "cpu");
      return j;
    });

    RecordingProvider provider = new RecordingProvider("local");
    var services = new JobContext.Services(OperatorConfig.defaults().with(c -> c.shard = "gpu"),
        new dev.trainingjob.operator.provider.ProviderRegistry("local", List.of(provider)), new ScriptedRemoteHosts(),
        new JobBundles(null), new dev.trainingjob.operator.support.RecordingEvents(), java.time.Clock.systemUTC(),
        dev.trainingjob.operator.cost.JobPrices.of(dev.trainingjob.operator.cost.PriceList.bundled()),
        dev.trainingjob.operator.metrics.OperatorMetrics.discarding(), BudgetLedger.none(), new ShardClaim(API.client(), "gpu"));
    var control = new TrainingJobReconciler(services).reconcile(read, null);

    assertThat(control.isPatchStatus()).isFalse();
    assertThat(control.getScheduleDelay()).as("looked at again, as it is now").isPresent();
    assertThat(provider.calls("default/raced")).as("nothing asked of any machine").isEmpty();
    assertThat(stored("raced").getStatus()).as("the cpu shard takes it as if gpu never saw it").isNull();

    // the cpu shard, reading it as it is, takes it
    TrainingJob now = stored("raced");
    assertThat(new ShardClaim(API.client(), "cpu").take(now)).isTrue();
    assertThat(stored("raced").getStatus().shard).isEqualTo("cpu");
    assertThat(now.getMetadata().getResourceVersion()).isEqualTo(stored("raced").getMetadata().getResourceVersion());
  }

  @Test
  void aJobTakenByOneShardIsAnotherShardsToLeaveAlone() throws Exception {
    TrainingJob job = created("taken", null);
    ShardClaim defaultShard = new ShardClaim(API.client(), null);
    ShardClaim gpu = new ShardClaim(API.client(), "gpu");
    assertThat(ShardClaim.taken(job)).isFalse();
    assertThat(defaultShard.take(job)).isTrue();

    TrainingJob seenByGpu = stored("taken");
    assertThat(gpu.heldElsewhere(seenByGpu)).contains(Shard.DEFAULT);
    assertThat(defaultShard.heldElsewhere(seenByGpu)).isEmpty();
    // a second take with what was read before the first: refused, the first stands
    assertThat(gpu.take(created("taken-twice", "gpu"))).isTrue();
    TrainingJob stale = stored("taken-twice");
    stale.getMetadata().setResourceVersion(job.getMetadata().getResourceVersion());
    assertThat(defaultShard.take(stale)).isFalse();
    assertThat(stored("taken-twice").getStatus().shard).isEqualTo("gpu");
  }

  @Test
  void aJobAnOperatorFromBeforeShardsTookIsTheDefaultShards() {
    TrainingJobStatus before = new TrainingJobStatus();
    before.phase = Phase.Running;
    assertThat(Shard.holder(before)).contains(Shard.DEFAULT);
    assertThat(Shard.holder(new TrainingJobStatus())).isEmpty();
    assertThat(Shard.holder(null)).isEmpty();
  }

  /** A new run's status starts afresh, but not its shard: the shard that holds the machine runs the next run too. */
  @Test
  void aShardsJobStaysItsOwnAcrossANewRun() throws Exception {
    RecordingProvider provider = new RecordingProvider("local");
    ScriptedRemoteHosts remote = new ScriptedRemoteHosts();
    remote.runningProbes = 1;
    SyncOperator gpu = new SyncOperator(OperatorConfig.defaults().with(c -> c.shard = "gpu"), "local", List.of(provider), remote);
    TrainingJob job = SyncOperator.job("reruns");
    gpu.reconcileUntil(job, Phase.Succeeded);
    assertThat(job.getStatus().shard).isEqualTo("gpu");

    gpu.reconcile(job); // released
    job.getSpec().script.args = List.of("--epochs", "5");
    job.getMetadata().setGeneration(2L);
    gpu.reconcile(job);
    assertThat(job.getStatus().phase).as("a new run").isEqualTo(Phase.Pending);
    gpu.reconcileUntil(job, Phase.Succeeded);
    assertThat(job.getStatus().run.number).isEqualTo(2);
    assertThat(job.getStatus().shard).isEqualTo("gpu");
    assertThat(gpu.events.reasons(job.ref())).doesNotContain(Reason.ShardChanged);
  }

  @Test
  void anotherShardsJobIsNeitherRunNorReleasedHere() throws Exception {
    RecordingProvider provider = new RecordingProvider("local");
    SyncOperator gpu = new SyncOperator(OperatorConfig.defaults().with(c -> c.shard = "gpu"), "local", List.of(provider),
        new ScriptedRemoteHosts());
    TrainingJob job = SyncOperator.job("elsewhere");
    job.setStatus(new TrainingJobStatus());
    job.getStatus().shard = "cpu";
    job.getStatus().phase = Phase.Running;

    assertThat(gpu.reconcile(job).isPatchStatus()).isFalse();
    assertThat(gpu.delete(job).isRemoveFinalizer()).as("the finalizer stays for the cpu shard").isFalse();
    assertThat(provider.calls(job.ref())).isEmpty();
    assertThat(job.getStatus().phase).isEqualTo(Phase.Running);
    assertThat(gpu.events.reasons(job.ref())).containsOnly(Reason.ShardChanged);
  }
}
