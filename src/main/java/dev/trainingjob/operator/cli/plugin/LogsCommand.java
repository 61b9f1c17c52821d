package dev.trainingjob.operator.cli.plugin;

import java.io.OutputStream;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "logs", mixinStandardHelpOptions = true, description = "Prints the script's output (output.log on its machine).")
public final class LogsCommand implements Callable<Integer> {
  @Mixin
  PluginOptions options;

  @Parameters(index = "0", description = "The TrainingJob.")
  String name;

  @Option(names = {"-f", "--follow"}, description = "Keep printing what the script writes, until interrupted.")
  boolean follow;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    try (var client = options.client()) {
      return PluginErrors.run(spec, () -> {
        var machine = JobAccess.machine(client, options.namespace(client), name, options.localWorkRoot);
        stream(machine, follow, System.out, () -> !Thread.currentThread().isInterrupted());
        return 0;
      });
    }
  }

  /** Streams the machine's output.log to {@code out} (the command's body; tests call it with their own stream). */
  public static void stream(JobAccess.Machine machine, boolean follow, OutputStream out, BooleanSupplier keepGoing) throws Exception {
    try (var ssh = JobAccess.ssh()) {
      ssh.connect(machine.target()).streamLog(machine.ref(), follow, out, keepGoing);
    }
    out.flush();
  }
}
