package dev.trainingjob.operator;

import dev.trainingjob.operator.config.OperatorConfig;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;

/** Builds the production operator: the SSH client and every provider this build has. */
public final class Assembly {
  private Assembly() {}

  public static OperatorRuntime start(KubernetesClient client, OperatorConfig config) {
    throw new IllegalStateException("the SSH client and providers arrive with the remote-execution issue");
  }
}
