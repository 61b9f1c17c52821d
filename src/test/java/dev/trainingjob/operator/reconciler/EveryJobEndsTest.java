package dev.trainingjob.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.api.ComputeSpec;
import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.status.Conditions;
import dev.trainingjob.operator.support.RecordingProvider;
import dev.trainingjob.operator.support.ScriptedRemoteHosts;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import dev.trainingjob.operator.api.OutputSpec;
import java.util.EnumSet;
import java.util.concurrent.CountDownLatch;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Every job ends, and every job can be deleted, whatever this operator has configured. */
class EveryJobEndsTest {
  private final RecordingProvider local = new RecordingProvider("local");
  private final ScriptedRemoteHosts remote = new ScriptedRemoteHosts();

  private static TrainingJob ec2Job(String name) {
    TrainingJob job = SyncOperator.job(name);
    job.getSpec().compute = new ComputeSpec();
    job.getSpec().compute.ec2 = new ComputeSpec.Ec2Spec();
    job.getSpec().compute.ec2.instanceType = "g5.xlarge";
    return job;
  }

  @Test
  void aJobForAProviderThisOperatorLacksFailsOnceWithThatReasonAndIsDeletedAtOnce() throws Exception {
    var operator = new SyncOperator(OperatorConfig.defaults(), "local", List.of(local), remote);
    TrainingJob job = ec2Job("no-ec2");

    var control = operator.reconcile(job);

    assertThat(job.getStatus().phase).isEqualTo(Phase.Failed);
    var failed = Conditions.find(job.getStatus(), ConditionType.FAILED);
    assertThat(failed.reason).isEqualTo(Reason.ProviderUnavailable.name());
    assertThat(failed.message).contains("provider ec2 is not configured").contains("local");
    assertThat(Conditions.find(job.getStatus(), ConditionType.RELEASED).reason).isEqualTo(Reason.NothingToRelease.name());
    assertThat(control.getScheduleDelay()).as("nothing to come back for").isEmpty();
    assertThat(operator.delete(job).isRemoveFinalizer()).isTrue();
  }

  /** Deleted in each phase on an operator with only the local provider: the finalizer goes once the machine is released. */
  @ParameterizedTest
  @EnumSource(Phase.class)
  void aJobCanBeDeletedInEveryPhase(Phase phase) throws Exception {
    remote.runningProbes = 5;
    var operator = new SyncOperator(OperatorConfig.defaults(), "local", List.of(local), remote);
    TrainingJob job = SyncOperator.job("del-" + phase.name().toLowerCase());
    if (phase == Phase.Failed) {
      remote.exitCode = 1;
    }
    if (phase == Phase.Finishing) {
      // a download that takes long keeps the job in Finishing
      job.getSpec().output = new OutputSpec();
      job.getSpec().output.paths = List.of("model.pt");
      remote.collectGate = new CountDownLatch(1);
    }
    if (phase == Phase.Suspended) {
      remote.stopEndsScript = true;
      operator.reconcileUntil(job, Phase.Running);
      job.getSpec().suspend = true; // as kubectl patch would: a new generation
      job.getMetadata().setGeneration(2L);
    }
    if (phase != Phase.Pending) {
      operator.reconcileUntil(job, phase);
    }

    DeleteControl control = operator.delete(job);
    for (int i = 0; i < 5 && !control.isRemoveFinalizer(); i++) {
      control = operator.delete(job);
    }

    if (remote.collectGate != null) {
      remote.collectGate.countDown();
    }
    assertThat(control.isRemoveFinalizer()).isTrue();
    boolean held = !EnumSet.of(Phase.Pending).contains(phase);
    assertThat(local.count(job.ref(), "release") > 0).as("released through the provider").isEqualTo(held);
  }

  @Test
  void anEditOfComputeAfterAdmissionIsANewRunThatReleasesTheOldMachineBeforeTheNewProviderLaunches() throws Exception {
    var ec2 = new RecordingProvider("ec2");
    var operator = new SyncOperator(OperatorConfig.defaults(), "local", List.of(local, ec2), remote);
    remote.stopEndsScript = true;
    TrainingJob job = SyncOperator.job("moved");
    operator.reconcileUntil(job, Phase.Running);

    job.getSpec().compute = ec2Job("x").getSpec().compute;
    job.getMetadata().setGeneration(2L);
    operator.reconcile(job);
    assertThat(job.getStatus().ending.reason).isEqualTo("SpecChanged");
    assertThat(ec2.count(job.ref(), "ensure")).as("nothing launched while the old machine is held").isZero();
    for (int i = 0; i < 20 && ec2.count(job.ref(), "ensure") == 0; i++) {
      operator.reconcile(job);
      assertThat(ec2.count(job.ref(), "ensure") == 0 || local.count(job.ref(), "release") > 0)
          .as("the old provider's machine is released before the new provider is asked").isTrue();
    }
    assertThat(job.getStatus().provider).isEqualTo("ec2");
    assertThat(job.getStatus().runs).extracting(r -> r.reason).containsExactly("SpecChanged");

    for (int i = 0; i < 5 && !operator.delete(job).isRemoveFinalizer(); i++) {
      assertThat(i).as("deletion completes within a few calls").isLessThan(4);
    }
    assertThat(ec2.count(job.ref(), "release")).as("deletion releases the new run's machine where it is").isPositive();
  }

  @Test
  void aMachineOnAProviderTheOperatorNoLongerHasIsNamedWithHowToLetGo() throws Exception {
    var before = new SyncOperator(OperatorConfig.defaults(), "local", List.of(local, new RecordingProvider("ec2")), remote);
    TrainingJob job = ec2Job("stranded");
    before.reconcileUntil(job, Phase.Running);

    var after = new SyncOperator(OperatorConfig.defaults(), "local", List.of(local), remote); // restarted without ec2
    DeleteControl control = after.delete(job);
    after.delete(job);

    assertThat(control.isRemoveFinalizer()).as("a paid machine may still run: the finalizer stays").isFalse();
    assertThat(control.getScheduleDelay()).isPresent();
    var released = Conditions.find(job.getStatus(), ConditionType.RELEASED);
    assertThat(released.reason).isEqualTo(Reason.ReleaseBlocked.name());
    assertThat(released.message).contains(job.getStatus().instance.id).contains("provider ec2 is not configured")
        .contains("kubectl patch trainingjob stranded");
    assertThat(after.events.reasons(job.ref())).containsOnlyOnce(Reason.ReleaseBlocked);
  }
}
