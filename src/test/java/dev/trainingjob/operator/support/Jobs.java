package dev.trainingjob.operator.support;

import dev.trainingjob.operator.api.EnvVarSpec;
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

  /** An environment variable whose value comes from a Secret's key. */
  public static EnvVarSpec envFromSecret(String name, String secret, String key) {
    EnvVarSpec env = new EnvVarSpec();
    env.name = name;
    env.valueFrom = new EnvVarSpec.Source();
    env.valueFrom.secretKeyRef = new EnvVarSpec.SecretKeyRef();
    env.valueFrom.secretKeyRef.name = secret;
    env.valueFrom.secretKeyRef.key = key;
    return env;
  }

  public static TrainingJob simple(String name) {
    return inline(name, "train.py", Map.of("train.py", "print('hello')\n"));
  }
}
