package dev.trainingjob.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.Assembly;
import dev.trainingjob.operator.OperatorRuntime;
import dev.trainingjob.operator.api.ComputeSpec;
import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.embedded.EmbeddedKubernetes;
import dev.trainingjob.operator.status.Conditions;
import dev.trainingjob.operator.support.Jobs;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator as `run` starts it with no flags: no default provider, no local provider, no operator id (so no ec2
 * provider, and nothing asks AWS anything). A job that does not say where it runs, or names a provider that is off,
 * fails at once saying why, and nothing ever ran on the operator's machine.
 */
class RunDefaultsTest {
  @TempDir
  Path tmp;
  EmbeddedKubernetes api;
  OperatorRuntime operator;

  @BeforeEach
  void start() {
    api = new EmbeddedKubernetes().start(0);
    operator = Assembly.start(api.client(), OperatorConfig.defaults().with(c -> {
      c.pollInterval = c.probeInterval = Duration.ofMillis(200);
      c.metricsPort = -1;
      c.outputDir = tmp.resolve("outputs");
      c.localWorkRoot = tmp.resolve("local");
    }));
  }

  @AfterEach
  void stop() {
    operator.close();
    api.close();
  }

  private TrainingJob failed(TrainingJob job) {
    String name = job.getMetadata().getName();
    api.client().resource(job).inNamespace("default").create();
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      TrainingJob j = api.client().resources(TrainingJob.class).inNamespace("default").withName(name).get();
      return j.getStatus() != null && j.getStatus().phase == Phase.Failed && Conditions.isTrue(j.getStatus(), ConditionType.RELEASED);
    });
    return api.client().resources(TrainingJob.class).inNamespace("default").withName(name).get();
  }

  private static TrainingJob naming(String name, String provider) {
    TrainingJob job = Jobs.simple(name);
    job.getSpec().compute = new ComputeSpec();
    if (provider.equals("local")) {
      job.getSpec().compute.local = new ComputeSpec.LocalSpec();
    } else {
      job.getSpec().compute.ec2 = new ComputeSpec.Ec2Spec();
      job.getSpec().compute.ec2.instanceType = "g5.xlarge";
    }
    return job;
  }

  @Test
  void aJobThatNamesNoProviderFailsInvalidSpecNamingSpecCompute() {
    TrainingJob job = failed(Jobs.simple("anywhere"));
    assertThat(Conditions.find(job.getStatus(), ConditionType.FAILED).reason).isEqualTo("InvalidSpec");
    assertThat(job.getStatus().message).contains("spec.compute names no provider, and this operator has no default provider");
    assertThat(job.getStatus().provider).isNull();
  }

  @Test
  void theLocalProviderIsOffAndAJobThatNamesItIsToldHowToTurnItOn() {
    TrainingJob job = failed(naming("here", "local"));
    assertThat(Conditions.find(job.getStatus(), ConditionType.FAILED).reason).isEqualTo("ProviderUnavailable");
    assertThat(job.getStatus().message).contains("provider local is off in this operator").contains("--enable-local-provider");
    // no SSH server, no key, no job directory on the operator's machine
    assertThat(tmp.resolve("local")).doesNotExist();
  }

  @Test
  void theEc2ProviderIsOffWithoutAnOperatorIdAndAJobThatNamesItIsToldWhy() {
    TrainingJob job = failed(naming("cloud", "ec2"));
    assertThat(Conditions.find(job.getStatus(), ConditionType.FAILED).reason).isEqualTo("ProviderUnavailable");
    assertThat(job.getStatus().message).contains("provider ec2 is off in this operator: no operator id is set");
  }
}
