package dev.trainingjob.operator.cli.plugin;

import dev.trainingjob.operator.kube.Secrets;
import dev.trainingjob.operator.redact.RedactingOutputStream;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.OutputStream;
import java.util.Collection;
import java.util.function.BooleanSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "logs", mixinStandardHelpOptions = true, description = "Prints the script's output (output.log on its machine), "
    + "with secrets masked as in status.logTail.")
public final class LogsCommand extends MachineVerb {
  @Option(names = {"-f", "--follow"}, description = "Keep printing what the script writes, until interrupted.")
  boolean follow;

  @Override
  int run(KubernetesClient client, JobAccess.Machine machine) throws Exception {
    // the values of the Secrets the job names, where this user may read them; the shapes of credentials are masked regardless
    stream(machine, Secrets.valuesNamedBy(client, machine.job()), follow, System.out, () -> !Thread.currentThread().isInterrupted());
    return 0;
  }

  /**
   * Streams the machine's output.log to {@code out} (the command's body; tests call it with their
   * own stream), masked line by line as status.logTail is: the same output shown here and in status
   * hides the same secrets.
   */
  public static void stream(JobAccess.Machine machine, Collection<String> secretValues, boolean follow, OutputStream out,
      BooleanSupplier keepGoing) throws Exception {
    RedactingOutputStream masked = new RedactingOutputStream(out, secretValues);
    try (var ssh = JobAccess.ssh()) {
      ssh.connect(machine.target()).streamLog(machine.ref(), follow, masked, keepGoing);
    } finally {
      masked.finish();
    }
  }
}
