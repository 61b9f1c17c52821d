package dev.trainingjob.operator.cli.plugin;

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
      return PluginErrors.run(spec, () -> run(JobAccess.machine(client, options.namespace(client), name, options.localWorkRoot)));
    }
  }

  abstract int run(JobAccess.Machine machine) throws Exception;
}
