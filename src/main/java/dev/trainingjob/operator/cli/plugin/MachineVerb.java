package dev.trainingjob.operator.cli.plugin;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** A verb on one job's machine (logs, attach, tunnel): finds the job and its machine, or says why it cannot. */
abstract class MachineVerb implements Callable<Integer> {
  @Mixin
  PluginOptions options;

  @Parameters(index = "0", description = "The TrainingJob.")
  String name;

  @Spec
  CommandSpec spec;

  @Override
  public final Integer call() throws Exception {
    try (var client = options.client()) {
      return PluginErrors.run(spec, () -> run(client, JobAccess.machine(client, options.namespace(client), name, options.localWorkRoot())));
    }
  }

  /** The verb's body; {@code client} for a verb that reads more from the cluster (logs: the Secrets whose values it masks). */
  abstract int run(KubernetesClient client, JobAccess.Machine machine) throws Exception;
}
