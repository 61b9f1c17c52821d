package dev.trainingjob.operator.cli.plugin;

import dev.trainingjob.operator.embedded.EmbeddedKubernetes;
import io.fabric8.kubernetes.api.model.AnyType;
import io.fabric8.kubernetes.api.model.NamedCluster;
import io.fabric8.kubernetes.api.model.NamedContext;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.internal.KubeConfigUtils;
import java.io.File;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/** What every plugin verb shares: the cluster (current kubeconfig context) and namespace. */
public final class PluginOptions {
  /** Where the operator keeps the local provider by default (OperatorConfig). */
  public static final Path DEFAULT_LOCAL_WORK_ROOT = Path.of(System.getProperty("user.home"), ".trainingjob-operator", "local");

  @Option(names = {"-n", "--namespace"}, description = "The job's namespace; the context's when not given.")
  String namespace;

  @Option(names = "--local-work-root", defaultValue = "${env:TRAININGJOB_LOCAL_WORK_ROOT}",
      description = "The local provider's working root (its key and known_hosts), for jobs on the local provider. Default: "
          + "the demo's, when the kubeconfig's cluster is a demo's (it says where), else ~/.trainingjob-operator/local.")
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

  /** The flag, else $TRAININGJOB_LOCAL_WORK_ROOT, else what a demo's kubeconfig says, else the operator's default. */
  Path localWorkRoot() {
    return localWorkRoot != null ? localWorkRoot : demoWorkRoot().orElse(DEFAULT_LOCAL_WORK_ROOT);
  }

  /** The local work root a demo wrote into its kubeconfig, for the current context's cluster. */
  static Optional<Path> demoWorkRoot() {
    // where the Kubernetes client looks: the system property kubeconfig, then $KUBECONFIG (its first file), then ~/.kube/config
    String paths = System.getProperty("kubeconfig", System.getenv("KUBECONFIG"));
    String first = paths == null || paths.isBlank() ? Path.of(System.getProperty("user.home"), ".kube", "config").toString()
        : paths.split(File.pathSeparator)[0];
    try {
      var config = KubeConfigUtils.parseConfig(new File(first));
      String context = config.getCurrentContext();
      String cluster = config.getContexts() == null ? null : config.getContexts().stream()
          .filter(c -> c.getName().equals(context)).map(NamedContext::getContext).filter(c -> c != null)
          .map(c -> c.getCluster()).findFirst().orElse(null);
      return config.getClusters().stream().filter(c -> c.getName().equals(cluster)).map(NamedCluster::getCluster)
          .filter(c -> c != null && c.getExtensions() != null).flatMap(c -> c.getExtensions().stream())
          .filter(e -> EmbeddedKubernetes.LOCAL_WORK_ROOT_EXTENSION.equals(e.getName()))
          .map(e -> e.getExtension() instanceof AnyType any ? any.getValue() : e.getExtension()) // a RawExtension
          .map(v -> v instanceof Map<?, ?> m ? m.get("localWorkRoot") : null)
          .filter(v -> v instanceof String).map(v -> Path.of((String) v)).findFirst();
    } catch (Exception unreadable) {
      return Optional.empty(); // no kubeconfig there, or not one the plugin can read: the default
    }
  }
}
