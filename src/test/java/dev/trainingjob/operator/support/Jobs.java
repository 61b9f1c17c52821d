package dev.trainingjob.operator.support;

import dev.trainingjob.operator.api.ScriptSpec;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.api.TrainingJobSpec;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.util.Map;

/** Small TrainingJobs for tests. */
public final class Jobs {
  private Jobs() {}

  public static TrainingJob inline(String name, String entrypoint, Map<String, String> files) {
    TrainingJob job = new TrainingJob();
    job.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(OperatorHarness.NS).build());
    TrainingJobSpec spec = new TrainingJobSpec();
    spec.script = new ScriptSpec();
    spec.script.entrypoint = entrypoint;
    spec.script.inline = files;
    job.setSpec(spec);
    return job;
  }

  public static TrainingJob simple(String name) {
    return inline(name, "train.py", Map.of("train.py", "print('hello')\n"));
  }
}
