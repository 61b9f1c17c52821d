package dev.trainingjob.operator.cli.plugin;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "tunnel", mixinStandardHelpOptions = true,
    description = "Forwards a local port to a port on the job's machine over SSH (TensorBoard 6006, Jupyter 8888); nothing is "
        + "opened on the machine's network. Runs until interrupted.")
public final class TunnelCommand extends MachineVerb {
  @Parameters(index = "1", description = "The port on the machine.")
  int port;

  @Parameters(index = "2", arity = "0..1", description = "The port on 127.0.0.1 here; the same as PORT when not given, 0 for any free one.")
  Integer localPort;

  @Override
  int run(KubernetesClient client, JobAccess.Machine machine) throws Exception {
    try (var ssh = JobAccess.ssh(); var forward = ssh.connect(machine.target()).forward(localPort == null ? port : localPort, port)) {
      spec.commandLine().getOut().printf("Forwarding 127.0.0.1:%d -> %s port %d (Ctrl-C to stop)%n", forward.localPort(),
          machine.job().getMetadata().getName(), port);
      spec.commandLine().getOut().flush();
      new CountDownLatch(1).await();
    }
    return 0;
  }
}
