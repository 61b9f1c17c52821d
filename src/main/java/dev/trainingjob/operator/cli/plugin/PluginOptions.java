package dev.trainingjob.operator.cli.plugin;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** What every plugin verb shares: the cluster (current kubeconfig context) and namespace. */
public final class PluginOptions {
  @Option(names = {"-n", "--namespace"}, description = "The job's namespace; the context's when not given.")
  String namespace;

  @Option(names = "--local-work-root", defaultValue = "${env:TRAININGJOB_LOCAL_WORK_ROOT:-${sys:user.home}/.trainingjob-operator/local}",
      description = "The local provider's working root (its key and known_hosts), for jobs on the local provider. Default: ${DEFAULT-VALUE}.")
  Path localWorkRoot;

  KubernetesClient client() {
    return new KubernetesClientBuilder().build();
  }

  String namespace(KubernetesClient client) {
    if (namespace != null) {
      return namespace;
    }
    return client.getNamespace() == null ? "default" : client.getNamespace();
  }
}
