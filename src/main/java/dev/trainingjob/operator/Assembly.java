package dev.trainingjob.operator;

import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.provider.ComputeProvider;
import dev.trainingjob.operator.provider.host.HostProvider;
import dev.trainingjob.operator.provider.local.LocalProvider;
import dev.trainingjob.operator.remote.ssh.SshRemoteHosts;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/** Builds the production operator: the SSH client and every provider this build has. */
public final class Assembly {
  private Assembly() {}

  public static OperatorRuntime start(KubernetesClient client, OperatorConfig config) {
    SshRemoteHosts remoteHosts = new SshRemoteHosts(config.remote());
    LocalProvider local;
    try {
      local = new LocalProvider(config.localWorkRoot(), config.outputDir(), remoteHosts);
    } catch (IOException e) {
      remoteHosts.close();
      throw new UncheckedIOException("could not start the local provider's SSH server under " + config.localWorkRoot(), e);
    }
    List<ComputeProvider> providers = List.of(local, new HostProvider(client, remoteHosts, config.outputDir()));
    return OperatorRuntime.start(client, config, providers, remoteHosts, List.of(local));
  }
}
