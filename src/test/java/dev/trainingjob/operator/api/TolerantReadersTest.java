package dev.trainingjob.operator.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.status.Conditions;
import io.fabric8.kubernetes.client.utils.Serialization;
import org.junit.jupiter.api.Test;

/** Whatever is stored under a TrainingJob, reading it never throws (Fabric8's own deserializer, as the informer uses). */
class TolerantReadersTest {
  private static TrainingJob read(String spec, String status) {
    return Serialization.unmarshal("""
        {"apiVersion":"trainingjob.dev/v1alpha1","kind":"TrainingJob","metadata":{"name":"x","namespace":"default"},
         "spec":%s%s}""".formatted(spec, status == null ? "" : ",\"status\":" + status), TrainingJob.class);
  }

  private static final String SCRIPT = "\"script\":{\"entrypoint\":\"train.py\",\"inline\":{\"train.py\":\"print(1)\"}}";

  @Test
  void aReadableSpecIsReadAsBefore() {
    TrainingJob job = read("{" + SCRIPT + ",\"limits\":{\"maxRuntimeSeconds\":60}}", null);
    assertThat(job.getSpec().unreadable).isNull();
    assertThat(job.getSpec().limits.maxRuntimeSeconds).isEqualTo(60L);
    assertThat(SpecValidator.validate(job.getSpec())).isEmpty();
  }

  @Test
  void anUnknownProviderKeyNamesTheField() {
    TrainingJob job = read("{" + SCRIPT + ",\"compute\":{\"gcp\":{\"machineType\":\"a2\"}}}", null);
    assertThat(job.getSpec().unreadable).startsWith("spec.compute.gcp: is not a field").contains("ec2, host, local");
    assertThat(SpecValidator.validate(job.getSpec())).singleElement()
        .satisfies(v -> assertThat(v.field()).isEqualTo("spec.compute.gcp"));
  }

  @Test
  void aNumberOutOfRangeNamesTheField() {
    TrainingJob job = read("{" + SCRIPT + ",\"limits\":{\"maxRuntimeSeconds\":1e20}}", null);
    assertThat(SpecValidator.validate(job.getSpec())).singleElement()
        .satisfies(v -> assertThat(v.field()).isEqualTo("spec.limits.maxRuntimeSeconds"));
  }

  @Test
  void aWrongTypeNamesTheFieldWithItsIndex() {
    TrainingJob job = read("{" + SCRIPT.replace("\"entrypoint\"", "\"args\":[\"a\",{\"b\":1}],\"entrypoint\"") + "}", null);
    assertThat(SpecValidator.validate(job.getSpec())).singleElement()
        .satisfies(v -> assertThat(v.field()).isEqualTo("spec.script.args[1]"));
  }

  @Test
  void statusFieldsOfANewerOperatorAreSkippedAndTheRestKept() {
    TrainingJob job = read("{" + SCRIPT + "}", """
        {"phase":"Running","futureField":{"a":1},"instance":{"id":"i-0abc","type":"g5.xlarge","newer":true},
         "exitCode":"not a number","conditions":[{"type":"Released","status":"False"}]}""");
    assertThat(job.getStatus().phase).isEqualTo(Phase.Running);
    assertThat(job.getStatus().instance.id).as("what says which machine the job holds survives").isEqualTo("i-0abc");
    assertThat(job.getStatus().exitCode).isNull();
    assertThat(Conditions.find(job.getStatus(), ConditionType.RELEASED)).isNotNull();
  }

  @Test
  void aPhaseThisOperatorDoesNotKnowIsReadAsNone() {
    TrainingJob job = read("{" + SCRIPT + "}", "{\"phase\":\"Hibernating\",\"instance\":{\"id\":\"i-1\"}}");
    assertThat(job.getStatus().phase).isNull();
    assertThat(job.getStatus().instance.id).isEqualTo("i-1");
  }
}
