package dev.trainingjob.operator.cli.plugin;

import java.io.OutputStream;
import java.util.function.BooleanSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "logs", mixinStandardHelpOptions = true, description = "Prints the script's output (output.log on its machine).")
public final class LogsCommand extends MachineVerb {
  @Option(names = {"-f", "--follow"}, description = "Keep printing what the script writes, until interrupted.")
  boolean follow;

  @Override
  int run(JobAccess.Machine machine) throws Exception {
    stream(machine, follow, System.out, () -> !Thread.currentThread().isInterrupted());
    return 0;
  }

  /** Streams the machine's output.log to {@code out} (the command's body; tests call it with their own stream). */
  public static void stream(JobAccess.Machine machine, boolean follow, OutputStream out, BooleanSupplier keepGoing) throws Exception {
    try (var ssh = JobAccess.ssh()) {
      ssh.connect(machine.target()).streamLog(machine.ref(), follow, out, keepGoing);
    }
    out.flush();
  }
}
