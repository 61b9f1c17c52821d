package dev.trainingjob.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.api.TrainingJobStatus;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.support.EmbeddedApi;
import dev.trainingjob.operator.support.Jobs;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A reconcile's status is written against the resourceVersion the job was read at: a decision made on a stale copy never
 * overwrites a newer status (a job that had Succeeded, reconciled again from a cached Running copy, once became Failed
 * InstanceLost).
 */
class LockedStatusWriteTest {
  @RegisterExtension
  static final EmbeddedApi API = new EmbeddedApi();

  private static TrainingJob withPhase(TrainingJob job, Phase phase, Reason reason) {
    if (job.getStatus() == null) {
      job.setStatus(new TrainingJobStatus());
    }
    job.getStatus().phase = phase;
    job.getStatus().message = reason.name();
    return job;
  }

  private static TrainingJob stored(String name) {
    return API.client().resources(TrainingJob.class).inNamespace("default").withName(name).get();
  }

  @Test
  void aDecisionMadeOnAStaleCopyDoesNotOverwriteTheNewerStatus() {
    TrainingJob created = API.client().resource(Jobs.simple("stale")).create();
    TrainingJob running = API.client().resource(withPhase(created, Phase.Running, Reason.Running)).updateStatus();
    TrainingJob staleCopy = API.client().getKubernetesSerialization().clone(running); // what a lagging cache still hands over
    API.client().resource(withPhase(stored("stale"), Phase.Succeeded, Reason.Succeeded)).updateStatus(); // the real end

    List<TrainingJob> cached = new ArrayList<>();
    withPhase(staleCopy, Phase.Failed, Reason.InstanceLost); // "the machine is gone": it was released after the end
    UpdateControl<TrainingJob> control = LockedStatusWrite.apply(UpdateControl.patchStatus(staleCopy), staleCopy, API.client(),
        cached::add);

    assertThat(stored("stale").getStatus().phase).as("the job's real end is kept").isEqualTo(Phase.Succeeded);
    assertThat(stored("stale").getStatus().message).isEqualTo(Reason.Succeeded.name());
    assertThat(control.isPatchStatus()).as("JOSDK writes nothing after the refused write").isFalse();
    assertThat(control.getScheduleDelay()).as("looked at again, as it is now").contains(LockedStatusWrite.AFTER_CONFLICT.toMillis());
    assertThat(cached).isEmpty();
  }

  @Test
  void aDecisionOnTheCurrentCopyIsWrittenAndItsRescheduleKept() {
    TrainingJob created = API.client().resource(Jobs.simple("current")).create();
    TrainingJob running = API.client().resource(withPhase(created, Phase.Running, Reason.Running)).updateStatus();

    List<TrainingJob> cached = new ArrayList<>();
    withPhase(running, Phase.Succeeded, Reason.Succeeded);
    UpdateControl<TrainingJob> control = LockedStatusWrite.apply(
        UpdateControl.patchStatus(running).rescheduleAfter(Duration.ofSeconds(7)), running, API.client(), cached::add);

    assertThat(stored("current").getStatus().phase).isEqualTo(Phase.Succeeded);
    assertThat(control.isPatchStatus()).as("written already, not twice").isFalse();
    assertThat(control.getScheduleDelay()).contains(7_000L);
    assertThat(cached).singleElement().satisfies(w -> {
      assertThat(w.getStatus().phase).isEqualTo(Phase.Succeeded);
      assertThat(w.getMetadata().getResourceVersion()).isEqualTo(stored("current").getMetadata().getResourceVersion());
    });
  }

  @Test
  void aDecisionWithoutAStatusWriteIsLeftAsItIs() {
    TrainingJob created = API.client().resource(Jobs.simple("quiet")).create();
    UpdateControl<TrainingJob> decided = UpdateControl.<TrainingJob>noUpdate().rescheduleAfter(Duration.ofSeconds(3));
    assertThat(LockedStatusWrite.apply(decided, created, API.client(), w -> {
      throw new AssertionError("nothing was written");
    })).isSameAs(decided);
  }
}
